"""Envelope analysis in numpy: waveform statistics and the squared envelope spectrum of a band.

The squared envelope spectrum (SES) of the analytic signal restricted to a band is the tool Randall &
Antoni (2011) recommend: the band holds a resonance that the fault's impacts excite, and the SES shows the
impacts' repetition rate (and its harmonics) whatever the resonance's frequency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faultcli.errors import ConfigError, DataError


@dataclass(frozen=True)
class EnvelopeSpectrum:
    """SES magnitudes at ``freqs`` (Hz); ``band`` the demodulation band (Hz)."""

    freqs: np.ndarray
    amplitude: np.ndarray
    band: tuple[float, float]

    def orders(self, rpm: float) -> np.ndarray:
        """The frequency axis in orders of shaft speed."""
        return self.freqs / (rpm / 60.0)


def waveform_stats(x: np.ndarray) -> dict[str, float]:
    """RMS, peak, crest factor and kurtosis (3 for Gaussian noise) of a signal, its mean removed."""
    x = np.asarray(x, dtype=np.float64)
    centred = x - x.mean()
    rms = float(np.sqrt(np.mean(centred**2)))
    peak = float(np.max(np.abs(centred)))
    kurtosis = float(np.mean(centred**4) / rms**4) if rms > 0 else float("nan")
    return {"rms": rms, "peak": peak, "crest_factor": peak / rms if rms > 0 else float("nan"), "kurtosis": kurtosis}


def check_band(band: tuple[float, float], sample_rate: float, what: str = "band") -> tuple[float, float]:
    """A band (low, high) in Hz that fits below Nyquist, else a ConfigError naming the limit."""
    low, high = float(band[0]), float(band[1])
    nyquist = sample_rate / 2
    if not (0 <= low < high):
        raise ConfigError(f"{what} {low:g}-{high:g} Hz is not a band; give LOW:HIGH with 0 <= LOW < HIGH")
    if high > nyquist:
        raise ConfigError(
            f"{what} {low:g}-{high:g} Hz reaches above Nyquist ({nyquist:g} Hz at {sample_rate:g} Hz sampling); "
            f"keep HIGH <= {nyquist:g}"
        )
    return low, high


def analytic_band(x: np.ndarray, sample_rate: float, band: tuple[float, float]) -> np.ndarray:
    """The analytic signal of ``x`` restricted to ``band`` (an ideal band-pass in the frequency domain)."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    spectrum = np.fft.fft(x - x.mean())
    freqs = np.fft.fftfreq(n, 1.0 / sample_rate)
    keep = (freqs >= band[0]) & (freqs <= band[1]) & (freqs > 0)
    return np.fft.ifft(np.where(keep, 2.0 * spectrum, 0.0))


def squared_envelope_spectrum(
    x: np.ndarray, sample_rate: float, band: tuple[float, float] | None = None, max_freq: float | None = None
) -> EnvelopeSpectrum:
    """SES of ``x`` demodulated in ``band`` (default: the whole band), bins up to ``max_freq`` Hz."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size < 16:
        raise DataError(f"envelope analysis takes one signal of 16 or more samples, got shape {x.shape}")
    band = check_band(band or (0.0, sample_rate / 2), sample_rate)
    envelope = np.abs(analytic_band(x, sample_rate, band)) ** 2
    window = np.hanning(x.size)
    amplitude = np.abs(np.fft.rfft((envelope - envelope.mean()) * window)) / window.sum()
    freqs = np.fft.rfftfreq(x.size, 1.0 / sample_rate)
    if max_freq is not None:
        keep = freqs <= max_freq
        freqs, amplitude = freqs[keep], amplitude[keep]
    return EnvelopeSpectrum(freqs, amplitude, band)


def prewhiten(x: np.ndarray) -> np.ndarray:
    """Cepstral pre-whitening (Sawalhi & Randall): every spectral line and resonance flattened to unit
    magnitude, phases kept, so discrete components (shaft, gears) no longer mask the impacts."""
    spectrum = np.fft.rfft(np.asarray(x, dtype=np.float64) - np.mean(x))
    magnitude = np.abs(spectrum)
    return np.fft.irfft(spectrum / np.where(magnitude > 0, magnitude, 1.0), n=len(x))
