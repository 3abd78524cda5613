"""A check of a recording's sampling rate against its shaft speed: at the right rate the spectrum shows a
comb of lines at 1×, 2×, … the shaft frequency; a warning names the rate that puts them there."""

from __future__ import annotations

import numpy as np

# rates recorders commonly use; the shaft-line check names the one among them (or the assumed rate
# times a small factor) that puts the spectrum's line at the shaft frequency
COMMON_RATES = (8000, 10000, 12000, 12800, 16000, 20000, 24000, 25600, 32000, 44100, 48000, 51200, 64000, 96000)
HARMONICS = 10  # shaft harmonics 1x … 10x looked at
CAP_DB = 30.0  # one very strong line must not carry a comb on its own
CLEAR_DB = 15.0  # mean prominence of the harmonics for a comb to count at all
OWN_DB = 13.0  # mean prominence of the harmonics k (not multiples of m) that only this rate predicts
MAX_BIN_HZ = 0.25  # coarser spectra cannot place the lines (recordings shorter than ~4 s)
MAX_SAMPLES = 1 << 21  # spectrum of at most the first 2 M samples (bounded time on long files)
_K = np.arange(1, HARMONICS + 1)


class _Comb:
    """Prominence of the shaft harmonics in one recording's spectrum, read at any candidate rate."""

    def __init__(self, signal: np.ndarray, rpm: float) -> None:
        x = np.asarray(signal, dtype=np.float64)[:MAX_SAMPLES]
        x = x - x.mean()
        self.n, self.shaft_hz = x.size, rpm / 60.0
        self.power = np.abs(np.fft.rfft(x * np.hanning(x.size))) ** 2

    def __call__(self, rate: float) -> np.ndarray:
        """Prominence (dB, capped) of harmonics 1x … 10x if sampled at ``rate``; NaN if unresolvable."""
        width = rate / self.n  # Hz per bin
        if width > MAX_BIN_HZ:
            return np.full(HARMONICS, np.nan)
        out = []
        for target in _K * self.shaft_hz:
            # the RPM reading and slip leave true lines within about 0.15 Hz of k × rpm / 60
            tol = max(0.15 + 1e-3 * target, 1.5 * width)
            lo, hi = int((target - tol) / width), int(np.ceil((target + tol) / width)) + 1
            blo, bhi = max(int((target - 8.0) / width), 1), int((target + 8.0) / width) + 1
            if hi >= self.power.size:
                out.append(0.0)
                continue
            ratio = self.power[lo:hi].max() / (np.median(self.power[blo:bhi]) + 1e-300)
            out.append(min(CAP_DB, max(0.0, 10 * np.log10(ratio + 1e-300))))
        return np.asarray(out)

    def fits(self, rate: float) -> bool:
        """Whether the shaft lines fit ``rate``: a clear comb, and not just every m-th line of a higher rate.

        Read at a rate m times too LOW, the true m-th, 2m-th … harmonics still fall on the assumed 1x, 2x …,
        so a comb also shows at the true rate's integer fractions; only at the true rate do the harmonics that
        m × rate alone predicts (k not a multiple of m) fall between lines.
        """
        own = self(rate)
        if not np.isfinite(own).all() or own.mean() < CLEAR_DB:
            return False
        for m in (2, 3, 4):
            if own[_K % m != 0].mean() < OWN_DB:
                return False  # rate is m times too high: only every m-th harmonic lines up
            higher = self(m * rate)
            if np.isfinite(higher).all() and higher[_K % m != 0].mean() >= OWN_DB:
                return False  # m × rate explains the lines as well, including those between
        return True


def fitting_rates(signal: np.ndarray, rate: float, rpm: float) -> list[float]:
    """Candidate rates (the given one, its multiples and fractions 2–4, common rates) the shaft lines fit, ascending."""
    comb = _Comb(signal, rpm)
    factors = (0.25, 1 / 3, 0.5, 1.0, 2.0, 3.0, 4.0)
    candidates = sorted({float(rate) * f for f in factors} | set(map(float, COMMON_RATES)))
    return [c for c in candidates if comb.fits(c)]


def check_shaft_line(signal: np.ndarray, rate: float, rpm: float | None) -> str | None:
    """A warning naming the rate that fits when the shaft-speed lines do not fit ``rate``, else None.

    Silent when the file has no RPM or no rate shows clear shaft lines (recordings shorter than a few
    seconds, machines whose spectrum has no shaft harmonics).
    """
    if rpm is None or not np.isfinite(rpm) or rpm <= 0:
        return None
    if _Comb(signal, rpm).fits(float(rate)):
        return None
    fit = fitting_rates(signal, rate, rpm)
    if not fit:
        return None
    # several rates can fit (an outer-race fault's cage lines form a comb at about 0.4 × the shaft speed)
    named = " or ".join(f"{c:g}" for c in fit[:3])
    return (
        f"the shaft-speed lines ({rpm:g} rpm = {rpm / 60:.2f} Hz) do not fit a rate of {rate:g} Hz but fit "
        f"{named} Hz; check the recording's sampling rate"
    )
