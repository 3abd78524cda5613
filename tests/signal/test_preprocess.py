"""Band-pass, MED and VMD on synthetic signals with known content; impossible parameters are errors."""

import numpy as np
import pytest

from faultcli.errors import ConfigError, DataError
from faultcli.signal.preprocess import MAX_VMD_MODES, bandpass, kurtosis, med, vmd, vmd_reconstruct

RATE = 12000


def _tone(freq: float, n: int = 12000, rate: float = RATE) -> np.ndarray:
    return np.sin(2 * np.pi * freq * np.arange(n) / rate)


def test_bandpass_keeps_the_band_and_removes_the_rest():
    y = bandpass(_tone(300) + _tone(2000) + _tone(5000), RATE, 1000, 3000)
    middle = slice(2000, 10000)  # away from the ends
    assert np.corrcoef(y[middle], _tone(2000)[middle])[0, 1] > 0.99
    assert np.std(bandpass(_tone(300), RATE, 1000, 3000)[middle]) < 0.02
    assert np.std(bandpass(_tone(300), RATE, 0, 1000)[middle]) > 0.6  # low = 0: a low-pass


def test_bandpass_impossible_bands_are_one_line_errors():
    with pytest.raises(ConfigError, match=r"above Nyquist \(6000 Hz at 12000 Hz\); keep high <= 6000"):
        bandpass(_tone(100), RATE, 1000, 7000)
    with pytest.raises(ConfigError, match="not a band"):
        bandpass(_tone(100), RATE, 3000, 2000)
    with pytest.raises(DataError, match="NaN"):
        bandpass(np.full(100, np.nan), RATE, 10, 100)


def test_med_raises_the_kurtosis_of_an_impulse_train_in_noise():
    rng = np.random.default_rng(0)
    n = 12000
    impulses = np.zeros(n)
    impulses[np.arange(60, n, 120)] = 1.0  # 100 impacts per second
    t = np.arange(240) / RATE
    ring = np.exp(-t * 600) * np.sin(2 * np.pi * 2500 * t)  # the transfer path smears each impact
    x = np.convolve(impulses, ring)[:n]
    x = x / x.std() + 1.5 * rng.standard_normal(n)  # impacts barely visible: kurtosis near 3.5
    y, f = med(x, filter_length=40, iterations=30)
    assert y.shape == x.shape and f.shape == (40,)
    assert np.linalg.norm(f) == pytest.approx(1.0)
    assert kurtosis(y) > kurtosis(x) + 2.0  # sharper impacts
    assert kurtosis(x) < 4.0


def test_med_bad_parameters():
    with pytest.raises(ConfigError, match="filter_length 500 must lie in 2..250"):
        med(np.random.default_rng(0).standard_normal(1000), filter_length=500)
    with pytest.raises(ConfigError, match="iterations"):
        med(np.random.default_rng(0).standard_normal(1000), iterations=0)


def test_vmd_separates_two_tones_and_a_chirp():
    rate, n = 1000, 2000
    t = np.arange(n) / rate
    low = np.cos(2 * np.pi * 20 * t)
    chirp = 0.8 * np.cos(2 * np.pi * (120 * t + 20 * t**2))  # 120 → 200 Hz
    high = 0.6 * np.cos(2 * np.pi * 350 * t)
    x = low + chirp + high + 0.05 * np.random.default_rng(0).standard_normal(n)
    modes, centres = vmd(x, 3, alpha=100, sample_rate=rate)
    assert modes.shape == (3, n)
    assert centres[0] == pytest.approx(20, abs=1) and centres[2] == pytest.approx(350, abs=1)
    assert 120 < centres[1] < 200
    for mode, truth in zip(modes, (low, chirp, high), strict=True):
        assert np.corrcoef(mode, truth)[0, 1] > 0.98
    assert np.std(vmd_reconstruct(modes) - (low + chirp + high)) < 0.1
    assert np.allclose(vmd_reconstruct(modes, keep=[0, 2]), modes[0] + modes[2])
    assert np.allclose(vmd_reconstruct(modes, weights=[1, 0, 0.5]), modes[0] + 0.5 * modes[2])


def test_vmd_keeps_the_length_of_odd_signals():
    modes, _ = vmd(_tone(50, n=1001, rate=1000) + _tone(300, n=1001, rate=1000), 2, sample_rate=1000)
    assert modes.shape == (2, 1001)


def test_vmd_impossible_mode_counts_are_one_line_errors():
    x = np.random.default_rng(0).standard_normal(4000)
    with pytest.raises(ConfigError, match=f"n_modes = 40: use 1..{MAX_VMD_MODES}"):
        vmd(x, 40)
    with pytest.raises(ConfigError, match="n_modes = 20: use 1..12"):
        vmd(x[:200], 20)  # 200 samples hold no 20 separate bands
    with pytest.raises(ConfigError, match="n_modes = 0"):
        vmd(x, 0)
    modes, _ = vmd(x[:200], 2)
    with pytest.raises(ConfigError, match="numbered 0..1"):
        vmd_reconstruct(modes, keep=[2])
    with pytest.raises(ConfigError, match="one per mode"):
        vmd_reconstruct(modes, weights=[1.0])


def test_steps_run_in_order_and_name_the_bad_one():
    from faultcli.signal.preprocess import apply_steps

    x = _tone(300) + _tone(2000)
    y = apply_steps(x, RATE, [{"kind": "bandpass", "low": 1000, "high": 0}, {"kind": "med", "filter_length": 8}])
    assert y.shape == x.shape
    assert np.std(apply_steps(_tone(300), RATE, [{"kind": "bandpass", "low": 1000}])[2000:10000]) < 0.02
    kept = apply_steps(x[:4000], RATE, [{"kind": "vmd", "n_modes": 2, "keep": [1]}])
    assert np.corrcoef(kept[500:3500], _tone(2000, 4000)[500:3500])[0, 1] > 0.95
    with pytest.raises(ConfigError, match=r"step 1 \(bandpass\): band 10-9000 Hz must satisfy"):
        apply_steps(x, RATE, [{"kind": "med"}, {"kind": "bandpass", "low": 10, "high": 9000}])
    with pytest.raises(ConfigError, match="kind 'wavelet' is unknown; use one of bandpass, med, vmd"):
        apply_steps(x, RATE, [{"kind": "wavelet"}])
    with pytest.raises(ConfigError, match=r"step 0 \(vmd\): unknown parameter\(s\) modes"):
        apply_steps(x, RATE, [{"kind": "vmd", "modes": 3}])
    with pytest.raises(ConfigError, match=r"step 0 \(vmd\): n_modes must lie in 1..32"):
        apply_steps(x, RATE, [{"kind": "vmd"}])
    with pytest.raises(ConfigError, match=r"step 0 \(vmd\): VMD n_modes = 20: use 1..6"):
        apply_steps(x[:100], RATE, [{"kind": "vmd", "n_modes": 20}])  # a signal too short for its modes


def test_steps_are_checked_before_any_signal_is_read():
    from faultcli.signal.preprocess import check_steps

    check_steps([{"kind": "bandpass", "low": 500}, {"kind": "med"}, {"kind": "vmd", "n_modes": 4, "keep": [1]}], RATE)
    with pytest.raises(ConfigError, match=r"step 0 \(bandpass\): band 500-7000 Hz must satisfy .* <= 6000"):
        check_steps([{"kind": "bandpass", "low": 500, "high": 7000}], RATE)
    with pytest.raises(ConfigError, match=r"step 1 \(vmd\): n_modes must lie in 1..32"):
        check_steps([{"kind": "med"}, {"kind": "vmd", "n_modes": 64}], RATE)
    with pytest.raises(ConfigError, match="unknown parameter"):
        check_steps([{"kind": "med", "length": 3}], RATE)
