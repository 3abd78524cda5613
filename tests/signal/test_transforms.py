"""Known-content checks of the spectral transforms, and equality of the fast CWT with pywt.cwt."""

import math

import numpy as np
import pytest
import pywt
import torch

from faultcli.errors import DataError
from faultcli.registry import lookup
from faultcli.signal.transforms import (
    band_spectrum,
    cwt_scales,
    cwt_scalogram,
    envelope_spectrum,
    fft_logmag,
    order_spectrum,
    resample_to_orders,
    stft_spectrogram,
)

FS = 12000


def sine(freq: float, length: int, amp: float = 1.0, phase: float = 0.0) -> torch.Tensor:
    t = torch.arange(length, dtype=torch.float64) / FS
    return (amp * torch.sin(2 * math.pi * freq * t + phase)).float()


def test_fft_sine_peaks_in_its_bin_with_half_its_amplitude():
    length, k = 1024, 100
    x = torch.stack([sine(k * FS / length, length, amp=2.0), sine(37 * FS / length, length)])
    spec = fft_logmag(x)
    assert spec.shape == (2, length // 2 + 1)
    assert spec.argmax(-1).tolist() == [k, 37]
    # bin-centred sine of amplitude A shows A/2 (Hann, normalised by the window's sum)
    assert spec[0, k].item() == pytest.approx(math.log1p(1.0), rel=1e-4)
    assert torch.equal(fft_logmag(x[:, None]), spec)  # (B, 1, L) reads like (B, L)
    assert fft_logmag(x, n_bins=64).shape == (2, 64)
    assert fft_logmag(x, n_bins=64)[0].argmax().item() == k * 64 // (length // 2 + 1)


def test_band_spectrum_is_the_log_power_share_per_band_whatever_the_amplitude():
    # 1000 Hz sits in band 1000 / (6000 / 64) = 10.7 → band 10 of 64 equal bands over 0..Nyquist
    x = torch.stack([sine(1000.0, 1024), 50.0 * sine(1000.0, 1024), sine(1000.0, 1024) + sine(4000.0, 1024)])
    bands = band_spectrum(x, 64)
    assert bands.shape == (3, 64)
    shares = bands.exp()
    assert torch.allclose(shares.sum(-1), torch.ones(3), atol=1e-4)
    assert shares[0].argmax() == 10 and shares[0, 10] > 0.5
    assert torch.allclose(bands[0], bands[1], atol=1e-3)  # amplitude drops out
    two = shares[2].topk(2).indices.sort().values.tolist()
    assert two == [10, 42] and shares[2, 42] == pytest.approx(shares[2, 10].item(), rel=0.2)
    with pytest.raises(DataError, match="at least 256 samples"):
        band_spectrum(torch.randn(2, 100), 128)


def test_stft_sine_peaks_in_its_row_and_resizes():
    n_fft, row = 128, 20
    x = sine(row * FS / n_fft, 1024)[None, None]
    img = stft_spectrogram(x, n_fft=n_fft)
    assert img.shape == (1, 1, n_fft // 2 + 1, 1024 // (n_fft // 4) + 1)
    assert img[0, 0].mean(-1).argmax().item() == row
    small = stft_spectrogram(x, n_fft=n_fft, out_size=(64, 128))
    assert small.shape == (1, 1, 64, 128)
    assert abs(small[0, 0].mean(-1).argmax().item() - row * 64 / 65) <= 1


@pytest.mark.parametrize("wavelet", ["morl", "cmor1.5-1.0", "mexh"])
def test_cwt_equals_pywt(wavelet):
    """|coefficients| of the torch path vs abs(pywt.cwt) on the same scales: the largest absolute
    difference, relative to the largest |coefficient|, is < 1e-5 in float32 and < 1e-10 in float64."""
    rng = np.random.default_rng(0)
    t = np.arange(777) / FS
    x = np.sin(2 * np.pi * (300 + 2e6 * t) * t) + 0.3 * rng.standard_normal((3, t.size))  # chirp + noise
    scales = np.geomspace(1.0, 40.0, 24)
    ref = np.abs(pywt.cwt(x, scales, wavelet, axis=-1)[0]).transpose(1, 0, 2)  # (B, S, L)
    for dtype, tol in ((torch.float32, 1e-5), (torch.float64, 1e-10)):
        out = cwt_scalogram(torch.tensor(x, dtype=dtype), scales=scales, wavelet=wavelet)
        assert out.shape == (3, 1, 24, 777) and out.dtype == dtype
        assert np.abs(out[:, 0].numpy() - ref).max() / np.abs(ref).max() < tol


def test_cwt_sine_peaks_at_the_matching_scale():
    length = 1024
    scales = cwt_scales(64, length)
    for f0 in (500.0, 1500.0, 3000.0):
        img = cwt_scalogram(sine(f0, length)[None], scales=scales)
        band = img[0, 0, :, 256:-256].mean(-1)  # away from the edges
        peak_hz = pywt.scale2frequency("morl", scales[band.argmax().item()]) * FS
        assert peak_hz == pytest.approx(f0, rel=0.05)
    assert cwt_scalogram(torch.randn(2, 1, length), n_scales=32, out_size=(32, 64)).shape == (2, 1, 32, 64)


def test_envelope_spectrum_finds_the_modulation_frequency():
    length, fm = 4096, 107.0
    t = torch.arange(length, dtype=torch.float64) / FS
    am = ((1 + 0.8 * torch.cos(2 * math.pi * fm * t)) * torch.sin(2 * math.pi * 3000 * t)).float()
    spec = envelope_spectrum(am[None, None], FS, max_freq=1000.0)
    bin_hz = FS / length
    assert spec.shape == (1, int(1000 / bin_hz) + 1)
    assert spec[0, 0].item() < 1e-6  # DC removed
    assert abs(spec[0].argmax().item() * bin_hz - fm) <= bin_hz
    # the plain spectrum has no line at fm: the envelope is what demodulates it
    assert fft_logmag(am[None])[0].argmax().item() * bin_hz == pytest.approx(3000, abs=2 * bin_hz)
    assert envelope_spectrum(am[None], FS, n_bins=50).shape == (1, 50)


@pytest.mark.parametrize("kind", ["fft", "envelope"])
def test_order_spectrum_puts_3x_shaft_speed_at_order_3(kind):
    length, rpm = 4096, torch.tensor([1797.0, 1730.0, 1400.0])
    t = torch.arange(length, dtype=torch.float64) / FS
    if kind == "fft":
        x = torch.stack([torch.sin(2 * math.pi * 3 * r / 60 * t) for r in rpm.double()]).float()
    else:  # a 3 kHz resonance knocked 3 times per revolution
        x = torch.stack(
            [(1 + torch.cos(2 * math.pi * 3 * r / 60 * t)) * torch.sin(2 * math.pi * 3000 * t) for r in rpm.double()]
        ).float()
    spec = order_spectrum(x, rpm, FS, kind=kind, max_order=10.0, n_bins=201)
    orders = torch.linspace(0, 10, 201)
    assert spec.shape == (3, 201)
    assert torch.allclose(orders[spec[:, 5:].argmax(-1) + 5], torch.tensor(3.0), atol=0.1)
    # unknown speed falls back to the nominal rpm
    nan_rpm = torch.tensor([float("nan"), 1730.0, 1400.0])
    fallback = order_spectrum(x, nan_rpm, FS, kind=kind, max_order=10.0, n_bins=201, nominal_rpm=1797.0)
    assert torch.allclose(fallback, spec)


def test_resample_to_orders_interpolates_and_zeroes_past_the_spectrum():
    spectrum = torch.arange(11, dtype=torch.float32)[None]  # bin k holds k, bins 1 Hz apart
    out = resample_to_orders(spectrum, torch.tensor([60.0]), 1.0, max_order=20.0, n_bins=41)
    assert torch.allclose(out[0, :21], torch.linspace(0, 10, 21))  # order o = o Hz at 60 rpm
    assert torch.all(out[0, 21:] == 0)


def test_transforms_keep_device_dtype_and_pass_gradients():
    x = torch.randn(2, 1, 512, dtype=torch.float64, requires_grad=True)
    outs = [
        fft_logmag(x, 32),
        stft_spectrogram(x, 64, out_size=(16, 16)),
        cwt_scalogram(x, n_scales=8),
        envelope_spectrum(x, FS),
        order_spectrum(x, torch.tensor([1800.0, 1700.0]), FS),
    ]
    for out in outs:
        assert out.device == x.device and out.dtype == torch.float64
    sum(o.sum() for o in outs).backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_bad_shapes_and_names_say_what_to_do():
    with pytest.raises(DataError, match=r"\(B, L\) or \(B, 1, L\)"):
        fft_logmag(torch.randn(2, 3, 64))
    with pytest.raises(DataError, match="n_fft"):
        stft_spectrogram(torch.randn(2, 64), n_fft=128)
    with pytest.raises(DataError, match="'fft' or 'envelope'"):
        order_spectrum(torch.randn(2, 64), torch.tensor([1.0, 1.0]), FS, kind="cwt")
    assert lookup("transform", "cwt") is cwt_scalogram and lookup("transform", "stft") is stft_spectrogram


def test_cwt_bank_cached_under_inference_mode_still_trains():
    """Evaluating first (inference_mode fills the filter-bank cache) must not break a later backward."""
    with torch.inference_mode():
        cwt_scalogram(torch.randn(1, 1, 300), n_scales=5)
    x = torch.randn(1, 1, 300, requires_grad=True)
    cwt_scalogram(x, n_scales=5).sum().backward()
    assert torch.isfinite(x.grad).all()
