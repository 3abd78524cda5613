"""Where a recording's sampling rate comes from, and a check of it against the shaft speed.

One rule for every command that reads recordings: the rate the file states, else the first
``data.rate_patterns`` regex found in the file's FULL path, else a rate the user stated
(``data.source_rate`` / ``--sample-rate``), else a rate the caller may assume (and says so);
with none of these the read stops with an error instead of guessing.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from faultcli.errors import ConfigError, DataError

# rates recorders commonly use; the shaft-line check names the one among them (or the assumed rate
# times a small factor) that puts the spectrum's line at the shaft frequency
COMMON_RATES = (8000, 10000, 12000, 12800, 16000, 20000, 24000, 25600, 32000, 44100, 48000, 51200, 64000, 96000)
SOURCES = ("file", "pattern", "explicit", "assumed")


def full_path(path: str | Path) -> str:
    """The absolute POSIX path that rate patterns are matched against."""
    return Path(path).expanduser().absolute().as_posix()


def rate_from_patterns(path: str | Path, patterns: dict[str, int] | None) -> int | None:
    """The rate of the first regex in ``patterns`` found (case-insensitively) in the full path, else None."""
    text = full_path(path)
    for pattern, rate in (patterns or {}).items():
        try:
            regex = re.compile(pattern, re.IGNORECASE)
        except re.error as err:
            raise ConfigError(
                f"data.rate_patterns key {pattern!r} is not a valid regex ({err}); fix the pattern"
            ) from None
        if regex.search(text):
            return int(rate)
    return None


def resolve_rate(
    path: str | Path,
    *,
    file_rate: float | None = None,
    patterns: dict[str, int] | None = None,
    explicit: float | None = None,
    assumed: float | None = None,
    explicit_hint: str = "--set data.source_rate=HZ",
) -> tuple[int, str]:
    """(rate in Hz, how it was found: 'file' | 'pattern' | 'explicit' | 'assumed').

    ``patterns`` are regex → Hz matched against the FULL path; ``explicit`` / ``assumed`` of 0 or None
    mean unset. Raises ``DataError`` naming the file and the two ways to state the rate
    (``explicit_hint`` names the option of the calling command).
    """
    if file_rate:
        return int(round(file_rate)), "file"
    pattern_rate = rate_from_patterns(path, patterns)
    if pattern_rate:
        return pattern_rate, "pattern"
    if explicit:
        return int(round(explicit)), "explicit"
    if assumed:
        return int(round(assumed)), "assumed"
    raise DataError(
        f"{path}: sampling rate unknown (the file does not state it and no data.rate_patterns regex matches "
        f"its path); state it with {explicit_hint} or add a data.rate_patterns entry for its path"
    )


HARMONICS = 10  # shaft harmonics 1x … 10x looked at
CAP_DB = 30.0  # one very strong line must not carry a comb on its own
CLEAR_DB = 18.0  # below this mean prominence no rate shows clear shaft lines: stay silent
SAME_DB = 4.0  # a multiple of the best rate scoring within this much of it fits as well
MAX_BIN_HZ = 0.25  # coarser spectra cannot place the lines (recordings shorter than ~4 s)
MAX_SAMPLES = 1 << 21  # spectrum of at most the first 2 M samples (bounded time on long files)


def _spectrum(signal: np.ndarray) -> np.ndarray:
    x = np.asarray(signal, dtype=np.float64)[:MAX_SAMPLES]
    x = x - x.mean()
    return np.abs(np.fft.rfft(x * np.hanning(x.size))) ** 2


def _comb_db(power: np.ndarray, n: int, rate: float, shaft_hz: float) -> np.ndarray:
    """Prominence (dB, capped) of shaft harmonics 1x … 10x if sampled at ``rate``; NaN if unresolvable."""
    width = rate / n  # Hz per bin
    if width > MAX_BIN_HZ:
        return np.full(HARMONICS, np.nan)
    out = []
    for k in range(1, HARMONICS + 1):
        target = k * shaft_hz
        # the RPM reading and slip leave true lines within about 0.15 Hz of k × rpm / 60
        tol = max(0.15 + 1e-3 * target, 1.5 * width)
        lo, hi = int((target - tol) / width), int(np.ceil((target + tol) / width)) + 1
        blo, bhi = max(int((target - 8.0) / width), 1), int((target + 8.0) / width) + 1
        if hi >= power.size:
            out.append(0.0)
            continue
        ratio = power[lo:hi].max() / (np.median(power[blo:bhi]) + 1e-300)
        out.append(min(CAP_DB, max(0.0, 10 * np.log10(ratio + 1e-300))))
    return np.asarray(out)


def shaft_scores(signal: np.ndarray, rate: float, rpm: float) -> dict[float, np.ndarray]:
    """Candidate rate → prominence (dB) of shaft harmonics 1x … 10x when the signal is read at that rate."""
    n = min(np.asarray(signal).size, MAX_SAMPLES)
    power = _spectrum(signal)
    factors = (0.25, 1 / 3, 0.5, 1.0, 2.0, 3.0, 4.0)
    candidates = sorted({float(rate) * f for f in factors} | set(map(float, COMMON_RATES)))
    return {c: _comb_db(power, n, c, rpm / 60.0) for c in candidates}


def fitting_rate(scores: dict[float, np.ndarray]) -> float | None:
    """The rate the shaft lines fit, or None when no rate shows clear lines.

    Read at a rate m times too LOW, the true m-th, 2m-th … harmonics still fall on the assumed 1x, 2x …,
    so a comb at some rate also shows at its integer fractions. So from the best-scoring rate, climb to
    m × rate (m = 2, 3, 4) while the harmonics only m × rate predicts (k not a multiple of m) stand out
    about as well: read too high, those fall between the true lines.
    """
    valid = {c: s for c, s in scores.items() if np.isfinite(s).all()}
    mean = {c: float(s.mean()) for c, s in valid.items()}
    if not valid or max(mean.values()) < CLEAR_DB:
        return None
    best = max(mean, key=mean.get)
    climbed = True
    while climbed:
        climbed = False
        for m in (4, 3, 2):
            higher = next((c for c in valid if abs(c - m * best) <= 1e-6 * c), None)
            if higher is None:
                continue
            own = valid[higher][np.arange(1, HARMONICS + 1) % m != 0]
            if own.mean() >= mean[best] - SAME_DB:
                best, climbed = higher, True
                break
    return best


def check_shaft_line(signal: np.ndarray, rate: float, rpm: float | None) -> str | None:
    """A warning naming the rate that fits when the shaft-speed lines do not fit ``rate``, else None.

    Silent when the file has no RPM or no rate shows clear shaft lines (recordings shorter than a few
    seconds, machines whose spectrum has no shaft harmonics).
    """
    if rpm is None or not np.isfinite(rpm) or rpm <= 0:
        return None
    fit = fitting_rate(shaft_scores(signal, rate, rpm))
    if fit is None or abs(fit - rate) <= 0.005 * rate:
        return None
    return (
        f"the shaft-speed lines ({rpm:g} rpm = {rpm / 60:.2f} Hz) do not fit a rate of {rate:g} Hz but fit "
        f"{fit:g} Hz; check the recording's sampling rate"
    )
