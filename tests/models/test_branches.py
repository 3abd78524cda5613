"""Each branch maps raw windows (B, 1, L) to (B, out_dim), running its transform on the batch."""

import math

import pytest
import torch

import faultcli.models  # noqa: F401  (registers the branches)
from faultcli.errors import ConfigError
from faultcli.registry import create

WINDOW, RATE = 1024, 12000


def _make(name, **kwargs):
    return create("branch", name, window=WINDOW, sample_rate=RATE, out_dim=32, **kwargs).eval()


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("time", {"width": 8, "gru_hidden": 8, "heads": 2}),
        ("fft", {"width": 8}),
        ("envelope", {"width": 8}),
        ("tf", {"width": 8}),
        ("tf", {"width": 8, "transform": "cwt"}),
        ("fft", {"width": 8, "order_normalize": True}),
        ("envelope", {"width": 8, "order_normalize": True}),
        ("bands", {"n_bands": 32, "hidden": 16}),
    ],
)
def test_branch_output_shape(name, kwargs):
    branch = _make(name, **kwargs)
    with torch.no_grad():
        out = branch(torch.randn(3, 1, WINDOW), rpm=torch.tensor([1797.0, 1750.0, float("nan")]))
    assert out.shape == (3, 32) and branch.out_features == 32
    assert torch.isfinite(out).all()


def test_tf_image_is_64_by_128():
    for transform in ("stft", "cwt"):
        assert _make("tf", width=8, transform=transform).image(torch.randn(2, 1, WINDOW)).shape == (2, 1, 64, 128)


def test_unknown_tf_transform_is_a_config_error():
    with pytest.raises(ConfigError, match="tf_transform"):
        _make("tf", transform="wigner")


def test_fft_spectrum_peaks_at_the_tone():
    t = torch.arange(WINDOW) / RATE
    x = torch.sin(2 * math.pi * 1500.0 * t).reshape(1, 1, -1)
    spectrum = _make("fft", width=8).spectrum(x)
    assert spectrum.shape == (1, WINDOW // 2 + 1)
    assert abs(spectrum.argmax().item() * RATE / WINDOW - 1500.0) < RATE / WINDOW


@pytest.mark.parametrize("name", ["fft", "envelope"])
def test_order_normalized_spectrum_follows_rpm(name):
    branch = _make(name, width=8, order_normalize=True)
    x = torch.randn(2, 1, WINDOW)
    nominal = branch.spectrum(x, torch.full((2,), 1797.0))
    assert torch.allclose(branch.spectrum(x, None), nominal)  # no rpm → nominal speed
    assert torch.allclose(branch.spectrum(x, torch.full((2,), float("nan"))), nominal)  # unknown → nominal
    assert not torch.allclose(branch.spectrum(x, torch.full((2,), 1500.0)), nominal)


def test_order_normalization_aligns_a_shaft_harmonic():
    """A tone at 3× shaft speed lands on order 3 whatever the speed."""
    branch = _make("fft", width=8, order_normalize=True)
    t = torch.arange(WINDOW) / RATE
    peaks = []
    for rpm in (1797.0, 1500.0):
        x = torch.sin(2 * math.pi * 30.0 * rpm / 60.0 * t).reshape(1, 1, -1)
        spectrum = branch.spectrum(x, torch.tensor([rpm]))
        peaks.append(spectrum.argmax().item() * branch.max_order / (branch.n_bins - 1))
    assert peaks[0] == pytest.approx(30.0, abs=0.6) and peaks[1] == pytest.approx(30.0, abs=0.6)


def test_unknown_branch_is_a_config_error():
    with pytest.raises(ConfigError, match="envelope"):
        create("branch", "envelop", window=WINDOW, sample_rate=RATE)
