"""The fast kurtogram picks the band of the resonance that impacts excite."""

import numpy as np
import pytest

from faultcli.diagnostics.kurtogram import check_levels, fast_kurtogram, max_levels
from faultcli.errors import ConfigError, DataError

from .synthetic import impact_signal

RATE = 12000


@pytest.mark.parametrize("resonance", [1200.0, 3500.0, 5100.0])
def test_best_band_holds_the_resonance(resonance):
    # a strong 50 Hz tone and broadband noise around impacts that ring at `resonance`
    x = impact_signal(RATE, 2**15, fault_hz=107.0, resonance_hz=resonance, noise=1.0, tone=3.0)
    k = fast_kurtogram(x, RATE, levels=5)
    low, high = k.best_band
    assert low <= resonance <= high
    assert high - low <= RATE / 4  # a band, not the whole spectrum
    assert k.best_kurtosis > 1.0
    assert len(k.levels) == len(k.kurtosis) == 10  # 0, 1, 1.6, 2, ..., 4.6, 5
    assert [len(row) for row in k.kurtosis][:4] == [1, 2, 3, 4]


def test_gaussian_noise_has_spectral_kurtosis_near_zero():
    x = np.random.default_rng(0).standard_normal(2**15)
    k = fast_kurtogram(x, RATE, levels=4)
    assert abs(k.best_kurtosis) < 0.5


def test_one_isolated_transient_does_not_take_the_band():
    x = impact_signal(RATE, 2**15, fault_hz=107.0, resonance_hz=2500.0, noise=0.5)
    t = np.arange(400) / RATE
    x[20000:20400] += 60 * np.exp(-t * 600) * np.sin(2 * np.pi * 5500 * t)  # one knock elsewhere
    low, high = fast_kurtogram(x, RATE, levels=5).best_band
    assert low <= 2500 <= high


def test_too_short_for_the_levels_is_a_one_line_error():
    with pytest.raises(DataError, match=r"too few for a kurtogram of 6 levels \(needs 8192\); use at most 5 levels"):
        fast_kurtogram(np.ones(5000), RATE, levels=6)
    with pytest.raises(DataError, match="use a longer recording"):
        check_levels(100, 1)
    with pytest.raises(ConfigError, match="levels = 0"):
        check_levels(10**6, 0)
    assert max_levels(2**15) == 8
