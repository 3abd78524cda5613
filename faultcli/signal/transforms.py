"""Spectral views of vibration windows, computed on the batch's device inside models' front ends.

Every transform takes a batch shaped (B, L) or (B, 1, L), runs without per-sample Python loops and is
differentiable through torch's FFTs. Spectra are normalised by the window's sum (= L without a window)
so a sine of amplitude A shows about A/2 at its bin whatever the window length.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pywt
import scipy.fft
import torch
import torch.nn.functional as F

from faultcli.errors import DataError
from faultcli.registry import register

# Length of the sampled wavelet pywt.cwt uses by default (2**12 points); the same table keeps us equal to it.
CWT_PRECISION = 12


def as_windows(x: torch.Tensor) -> torch.Tensor:
    """(B, L) or (B, 1, L) → (B, L); anything else is an error saying which shape to pass."""
    if x.dim() == 3 and x.shape[1] == 1:
        return x[:, 0]
    if x.dim() == 2:
        return x
    raise DataError(
        f"signal transforms take windows shaped (B, L) or (B, 1, L), got {tuple(x.shape)}; "
        "reshape the batch to one channel"
    )


def _hann(length: int, like: torch.Tensor) -> torch.Tensor:
    return torch.hann_window(length, periodic=True, device=like.device, dtype=like.dtype)


def _pool_bins(spec: torch.Tensor, n_bins: int | None) -> torch.Tensor:
    """Average neighbouring bins down to ``n_bins`` (or stretch linearly when asking for more)."""
    if n_bins is None or n_bins == spec.shape[-1]:
        return spec
    if n_bins < spec.shape[-1]:
        return F.adaptive_avg_pool1d(spec.unsqueeze(1), n_bins).squeeze(1)
    return F.interpolate(spec.unsqueeze(1), size=n_bins, mode="linear", align_corners=True).squeeze(1)


def resize_image(img: torch.Tensor, out_size: tuple[int, int] | None) -> torch.Tensor:
    """Resize (B, C, H, W): average-pool the axes that shrink (no aliasing), then interpolate the rest."""
    if out_size is None or tuple(img.shape[-2:]) == tuple(out_size):
        return img
    h, w = img.shape[-2:]
    pooled = (min(h, out_size[0]), min(w, out_size[1]))
    if pooled != (h, w):
        img = F.adaptive_avg_pool2d(img, pooled)
    if pooled != tuple(out_size):
        img = F.interpolate(img, size=tuple(out_size), mode="bilinear", align_corners=False)
    return img


def rfft_freqs(length: int, sample_rate: float) -> np.ndarray:
    """Frequency (Hz) of each rFFT bin of a window of ``length`` samples."""
    return np.fft.rfftfreq(length, d=1.0 / sample_rate)


# ---------------------------------------------------------------------------------------------- FFT


def fft_logmag(x: torch.Tensor, n_bins: int | None = None, *, hann: bool = True) -> torch.Tensor:
    """log(1 + |rFFT|) of each window → (B, L // 2 + 1), or (B, n_bins) pooled over neighbouring bins.

    Bin k is at k · sample_rate / L before pooling.
    """
    x = as_windows(x)
    length = x.shape[-1]
    if hann:
        w = _hann(length, x)
        spec = torch.fft.rfft(x * w, dim=-1).abs() / w.sum()
    else:
        spec = torch.fft.rfft(x, dim=-1).abs() / length
    return _pool_bins(torch.log1p(spec), n_bins)


def band_spectrum(x: torch.Tensor, n_bands: int = 64, *, eps: float = 1e-10) -> torch.Tensor:
    """Log share of each window's power in ``n_bands`` equal-width bands from 0 to Nyquist → (B, n_bands).

    The spectrum's coarse shape: which structural resonances the defect excites. Dividing by the total
    power drops the amplitude (it grows with load), and bands much wider than the few-hertz shift of a
    line between shaft speeds drop the speed: what is left reads the same at every load.
    """
    x = as_windows(x)
    length = x.shape[-1]
    if length // 2 < n_bands:
        raise DataError(f"{n_bands} bands need windows of at least {2 * n_bands} samples, got {length}")
    w = _hann(length, x)
    power = torch.fft.rfft((x - x.mean(dim=-1, keepdim=True)) * w, dim=-1).abs().square()[:, 1:]  # DC dropped
    bands = F.adaptive_avg_pool1d(power.unsqueeze(1), n_bands).squeeze(1)
    return torch.log(bands / bands.sum(dim=-1, keepdim=True).clamp_min(eps) + eps)


# --------------------------------------------------------------------------------------------- STFT


@register("transform", "stft")
def stft_spectrogram(
    x: torch.Tensor, n_fft: int = 128, hop: int | None = None, out_size: tuple[int, int] | None = None
) -> torch.Tensor:
    """log(1 + |STFT|) with a Hann window → (B, 1, n_fft // 2 + 1, frames), or (B, 1, *out_size).

    Row f is frequency f · sample_rate / n_fft (before resizing); frames are centred (torch.stft
    ``center=True``), ``hop`` defaults to n_fft // 4.
    """
    x = as_windows(x)
    if n_fft > x.shape[-1]:
        raise DataError(
            f"stft n_fft={n_fft} is longer than the window ({x.shape[-1]} samples); "
            "use a smaller n_fft or a longer data.window"
        )
    w = _hann(n_fft, x)
    spec = torch.stft(x, n_fft=n_fft, hop_length=hop or n_fft // 4, window=w, center=True, return_complex=True)
    img = torch.log1p(spec.abs() / w.sum()).unsqueeze(1)
    return resize_image(img, out_size)


# ---------------------------------------------------------------------------------------------- CWT


def cwt_scales(n_scales: int, length: int, wavelet: str = "morl") -> np.ndarray:
    """``n_scales`` log-spaced scales from Nyquist down to the lowest frequency whose wavelet fits the window."""
    fc = pywt.central_frequency(wavelet, precision=CWT_PRECISION)
    lo, hi = pywt.ContinuousWavelet(wavelet).lower_bound, pywt.ContinuousWavelet(wavelet).upper_bound
    smallest = 2.0 * fc  # scale of the Nyquist frequency (0.5 cycles / sample)
    largest = max(smallest * 2.0, length / (hi - lo))  # kernel (support × scale) no longer than the window
    return np.geomspace(smallest, largest, n_scales)


@lru_cache(maxsize=16)
def _cwt_bank(wavelet: str, scales: tuple[float, ...], length: int) -> tuple[np.ndarray, int]:
    """Kernels reproducing ``pywt.cwt(method='conv')`` at each scale, laid out for one circular FFT product.

    pywt computes ``-sqrt(s) · diff(convolve(x, f_s))`` trimmed to the centre, where f_s samples the
    integrated wavelet. diff∘convolve = convolve with g_s = -sqrt(s) · diff([0, f_s, 0]), and rolling g_s
    by the trim offset puts pywt's output at indices 0..L-1 of a zero-padded circular convolution.
    """
    wav = pywt.ContinuousWavelet(wavelet)
    int_psi, grid = pywt.integrate_wavelet(wav, precision=CWT_PRECISION)
    int_psi = np.conj(int_psi) if wav.complex_cwt else int_psi
    step = grid[1] - grid[0]
    kernels, offsets = [], []
    for s in scales:  # once per (wavelet, scales, length): cached, not per batch
        j = (np.arange(s * (grid[-1] - grid[0]) + 1) / (s * step)).astype(int)
        f = int_psi[j[j < int_psi.size]][::-1]
        if f.size < 2:
            raise DataError(f"cwt scale {s:g} is too small for wavelet {wavelet!r}; use scales >= 0.1")
        kernels.append(-math.sqrt(s) * np.diff(np.concatenate([[0.0], f, [0.0]])))
        offsets.append(math.floor((f.size - 2) / 2) + 1)
    n_fft = scipy.fft.next_fast_len(length + max(k.size for k in kernels), real=True)  # no wrap-around
    bank = np.zeros((len(scales), n_fft), dtype=np.complex128 if wav.complex_cwt else np.float64)
    for i, (k, off) in enumerate(zip(kernels, offsets, strict=True)):
        bank[i, (np.arange(k.size) - off) % n_fft] = k
    return bank, n_fft


@lru_cache(maxsize=16)
def _cwt_kernel_fft(
    wavelet: str, scales: tuple[float, ...], length: int, device: str, dtype: torch.dtype
) -> tuple[torch.Tensor, int, bool]:
    """The filter bank's spectrum on ``device``: computed once, reused by every batch."""
    bank, n_fft = _cwt_bank(wavelet, scales, length)
    # a normal tensor even when first called under inference_mode, so later training can backprop through it
    with torch.inference_mode(False), torch.no_grad():
        if np.iscomplexobj(bank):
            cdtype = torch.complex128 if dtype == torch.float64 else torch.complex64
            return torch.fft.fft(torch.as_tensor(bank, device=device).to(cdtype), dim=-1), n_fft, True
        return torch.fft.rfft(torch.as_tensor(bank, device=device).to(dtype), dim=-1), n_fft, False


@register("transform", "cwt")
def cwt_scalogram(
    x: torch.Tensor,
    scales: Sequence[float] | None = None,
    n_scales: int = 64,
    wavelet: str = "morl",
    out_size: tuple[int, int] | None = None,
) -> torch.Tensor:
    """|CWT| of each window → (B, 1, S, L), or (B, 1, *out_size); equal to ``abs(pywt.cwt(x, scales, wavelet))``.

    Row 0 is the smallest scale (highest frequency); scale s sits at
    ``pywt.scale2frequency(wavelet, s) · sample_rate``. ``scales`` defaults to ``cwt_scales(n_scales, L)``.
    """
    x = as_windows(x)
    length = x.shape[-1]
    scales = cwt_scales(n_scales, length, wavelet) if scales is None else np.asarray(scales, dtype=float)
    kernel, n_fft, complex_bank = _cwt_kernel_fft(
        wavelet, tuple(float(s) for s in scales), length, str(x.device), x.dtype
    )
    # the scale axis is added before the FFT: ONNX export cannot unsqueeze a complex tensor
    if complex_bank:
        spec = torch.fft.fft(x[:, None].to(kernel.dtype), n=n_fft, dim=-1) * kernel
        coef = torch.fft.ifft(spec, dim=-1)[..., :length]
    else:
        spec = torch.fft.rfft(x[:, None], n=n_fft, dim=-1) * kernel
        coef = torch.fft.irfft(spec, n=n_fft, dim=-1)[..., :length]
    return resize_image(coef.abs().unsqueeze(1), out_size)


# -------------------------------------------------------------------------------- envelope and orders


def envelope_spectrum(
    x: torch.Tensor,
    sample_rate: float,
    max_freq: float | None = None,
    n_bins: int | None = None,
    *,
    hann: bool = True,
    log: bool = False,
) -> torch.Tensor:
    """Magnitude spectrum of the Hilbert envelope, DC removed → (B, F).

    Bin k is at k · sample_rate / L; ``max_freq`` keeps bins up to that frequency, then ``n_bins``
    pools them. Bearing defects show as peaks at their fault frequencies here (the envelope
    demodulates the resonance they excite).
    """
    x = as_windows(x)
    length = x.shape[-1]
    # analytic signal: keep DC (and Nyquist), double positive frequencies, zero negative ones
    h = torch.zeros(length, device=x.device, dtype=x.dtype)
    h[0] = 1.0
    h[1 : (length + 1) // 2] = 2.0
    if length % 2 == 0:
        h[length // 2] = 1.0
    env = torch.fft.ifft(torch.fft.fft(x, dim=-1) * h, dim=-1).abs()
    w = _hann(length, x) if hann else torch.ones(length, device=x.device, dtype=x.dtype)
    env = env - (env * w).sum(dim=-1, keepdim=True) / w.sum()  # window-weighted mean: DC bin is 0
    spec = torch.fft.rfft(env * w, dim=-1).abs() / w.sum()
    if max_freq is not None:
        spec = spec[:, : int(math.floor(max_freq * length / sample_rate)) + 1]
    spec = torch.log1p(spec) if log else spec
    return _pool_bins(spec, n_bins)


def resample_to_orders(
    spectrum: torch.Tensor,
    rpm: torch.Tensor,
    bin_hz: float,
    *,
    max_order: float = 20.0,
    n_bins: int = 256,
    nominal_rpm: float = 1797.0,
) -> torch.Tensor:
    """Read a spectrum (B, F) with bin k at k · bin_hz on a fixed grid of shaft orders → (B, n_bins).

    Order grid: linspace(0, max_order, n_bins); order o of a sample turning at ``rpm`` is o · rpm / 60 Hz,
    read by linear interpolation between bins (0 past the spectrum's last bin). A NaN or non-positive rpm
    falls back to ``nominal_rpm``. A fault at 3× shaft speed peaks at order 3 whatever the load.
    """
    if spectrum.dim() != 2:
        raise DataError(f"order resampling takes spectra shaped (B, F), got {tuple(spectrum.shape)}")
    rpm = torch.as_tensor(rpm, dtype=spectrum.dtype, device=spectrum.device).reshape(-1)
    rpm = torch.where(torch.isfinite(rpm) & (rpm > 0), rpm, torch.full_like(rpm, nominal_rpm))
    orders = torch.linspace(0.0, max_order, n_bins, device=spectrum.device, dtype=spectrum.dtype)
    pos = orders[None, :] * (rpm[:, None] / 60.0) / bin_hz  # fractional bin index, (B, n_bins)
    last = spectrum.shape[-1] - 1
    lo = pos.floor().clamp(0, last).long()
    hi = (lo + 1).clamp(max=last)
    frac = (pos - lo).clamp(0.0, 1.0)
    out = spectrum.gather(1, lo) * (1 - frac) + spectrum.gather(1, hi) * frac
    return out.masked_fill(pos > last, 0.0)


def order_spectrum(
    x: torch.Tensor,
    rpm: torch.Tensor,
    sample_rate: float,
    *,
    kind: str = "fft",
    max_order: float = 20.0,
    n_bins: int = 256,
    nominal_rpm: float = 1797.0,
) -> torch.Tensor:
    """FFT log-magnitude (``kind='fft'``) or envelope spectrum (``'envelope'``) on a grid of shaft orders.

    Speed normalisation: see ``resample_to_orders``; ``rpm`` is (B,) per window, NaN = unknown.
    """
    x = as_windows(x)
    if kind == "fft":
        spec = fft_logmag(x)
    elif kind == "envelope":
        spec = envelope_spectrum(x, sample_rate, log=True)
    else:
        raise DataError(f"order_spectrum kind {kind!r} is unknown; use 'fft' or 'envelope'")
    return resample_to_orders(
        spec, rpm, sample_rate / x.shape[-1], max_order=max_order, n_bins=n_bins, nominal_rpm=nominal_rpm
    )
