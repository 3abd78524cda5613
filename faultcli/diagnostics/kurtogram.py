"""Fast kurtogram (Antoni 2007, "Fast computation of the kurtogram for the detection of transient faults",
MSSP 21(1)): spectral kurtosis on the 1/3-binary tree of frequency bands, and the band where it peaks.

Rows follow Antoni's grid: level 0 is the whole band [0, fs/2]; level k splits it into 2^k bands and level
k + 0.6 (between k and k + 1) into 3 · 2^(k-1) bands. Each band's complex envelope is obtained in the
frequency domain (the band's FFT bins, cosine-tapered edges, shifted to zero and inverted: filtered and
decimated at once) rather than by Antoni's quasi-analytic FIR tree; the statistic is his: the kurtosis of
the complex envelope c, E|c|^4 / (E|c|^2)^2 - 2, which is 0 for Gaussian noise and large for impacts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from faultcli.errors import ConfigError, DataError

SEGMENTS, MIN_SEGMENT = 8, 32  # the kurtosis is a median over time segments of at least 32 envelope samples
EDGE_TRIM = 0.02  # share of each band's envelope dropped at either end before its kurtosis is taken


@dataclass(frozen=True)
class Kurtogram:
    """Spectral kurtosis per (row, band); ``best`` the band (low, high) Hz where it is largest."""

    levels: list[float]  # row labels: 0, 1, 1.6, 2, 2.6, ...
    kurtosis: list[np.ndarray]  # per row, one value per band (low to high frequency)
    sample_rate: float
    best_level: float
    best_band: tuple[float, float]
    best_kurtosis: float

    def bands(self, row: int) -> np.ndarray:
        """(n_bands, 2) band edges in Hz of a row."""
        n = len(self.kurtosis[row])
        edges = np.linspace(0.0, self.sample_rate / 2, n + 1)
        return np.column_stack([edges[:-1], edges[1:]])


def max_levels(n_samples: int) -> int:
    """The most levels a recording of ``n_samples`` supports."""
    return int(math.floor(math.log2(max(n_samples, 1)))) - 7


def check_levels(n_samples: int, levels: int) -> None:
    """A recording too short for ``levels`` (or a level count below 1) is a one-line error."""
    if levels < 1:
        raise ConfigError(f"kurtogram levels = {levels}; use 1 or more")
    needed = 2 ** (levels + 7)
    if n_samples < needed:
        most = max_levels(n_samples)
        fix = f"use at most {most} levels" if most >= 1 else "use a longer recording"
        raise DataError(
            f"the recording has {n_samples} samples, too few for a kurtogram of {levels} levels "
            f"(needs {needed}); {fix}, or give the demodulation band yourself"
        )


def _row_kurtosis(spectrum: np.ndarray, n_bands: int) -> np.ndarray:
    """Spectral kurtosis of each of ``n_bands`` equal bands of a one-sided spectrum (bins 0 .. N/2)."""
    edges = np.linspace(0, spectrum.size - 1, n_bands + 1).round().astype(int)
    out = np.empty(n_bands)
    for i in range(n_bands):
        part = spectrum[edges[i] : edges[i + 1] + (i == n_bands - 1)]
        taper = np.ones(part.size)
        edge = max(part.size // 8, 1)  # cosine edges: an ideal filter's ringing would smear the impacts
        ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(edge) + 0.5) / edge)
        taper[:edge], taper[-edge:] = ramp, ramp[::-1]
        envelope = np.abs(np.fft.ifft(part * taper)) ** 2
        trim = int(np.ceil(envelope.size * EDGE_TRIM))  # the recording's two ends meet in a circular FFT
        out[i] = _robust_kurtosis(envelope[trim : envelope.size - trim])
    return out


def _robust_kurtosis(envelope: np.ndarray) -> float:
    """E|c|^4 / (E|c|^2)^2 - 2 of a squared envelope |c|^2, as the median over up to ``SEGMENTS`` time
    segments: one isolated transient (a glitch, a knock) then raises one segment's value, not the band's."""
    segments = int(np.clip(envelope.size // MIN_SEGMENT, 1, SEGMENTS))
    values = []
    for part in np.array_split(envelope, segments):
        power = part.mean()
        values.append(np.mean(part**2) / power**2 - 2.0 if power > 0 else 0.0)
    return float(np.median(values))


def edge_taper(x: np.ndarray, share: float = 0.01) -> np.ndarray:
    """``x`` with cosine ramps over ``share`` of its length at each end, so its ends meet smoothly."""
    ramp_len = max(int(x.size * share), 1)
    ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(ramp_len) + 0.5) / ramp_len)
    out = x.copy()
    out[:ramp_len] *= ramp
    out[-ramp_len:] *= ramp[::-1]
    return out


def fast_kurtogram(x: np.ndarray, sample_rate: float, levels: int = 6) -> Kurtogram:
    """Spectral kurtosis of ``x`` on Antoni's 1/3-binary band grid down to ``levels``; picks the best band.

    Ties between rows go to the coarser (wider) band, as a wider band keeps more of the impact's energy.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise DataError(f"the kurtogram takes one signal, got shape {x.shape}")
    check_levels(x.size, levels)
    spectrum = np.fft.rfft(edge_taper(x - x.mean()))
    rows: list[float] = [0.0]
    values = [_row_kurtosis(spectrum, 1)]
    for k in range(1, levels + 1):
        rows.append(float(k))
        values.append(_row_kurtosis(spectrum, 2**k))
        if k < levels:
            rows.append(k + 0.6)
            values.append(_row_kurtosis(spectrum, 3 * 2 ** (k - 1)))
    best_row, best_kurtosis, best_index = 0, -np.inf, 0
    for r, row in enumerate(values):
        i = int(np.argmax(row))
        if row[i] > best_kurtosis:
            best_row, best_kurtosis, best_index = r, float(row[i]), i
    width = sample_rate / 2 / len(values[best_row])
    band = (best_index * width, (best_index + 1) * width)
    return Kurtogram(rows, values, float(sample_rate), rows[best_row], band, best_kurtosis)
