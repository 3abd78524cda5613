"""Preprocessing of whole recordings (numpy in, numpy out): band-pass, minimum entropy deconvolution, VMD.

Pure functions of a 1-D signal and flat parameters; impossible parameters are one-line ``ConfigError``s
naming the limit. Each runs on a recording before it is cut into windows.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg
from scipy import signal as sps

from faultcli.errors import ConfigError, DataError

MAX_VMD_MODES = 32  # beyond this the modes' bands overlap on any recording this toolkit reads


def _one_signal(x: np.ndarray, what: str, min_len: int = 16) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size < min_len:
        raise DataError(f"{what} takes one signal of {min_len} or more samples, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise DataError(f"{what}: the signal holds NaN or infinite values; clean the recording first")
    return x


def bandpass(x: np.ndarray, sample_rate: float, low: float, high: float, order: int = 4) -> np.ndarray:
    """Zero-phase Butterworth band-pass (``low`` = 0: low-pass; ``high`` = Nyquist: high-pass)."""
    x = _one_signal(x, "bandpass")
    nyquist = sample_rate / 2
    if not 0 <= low < high:
        raise ConfigError(f"band-pass {low:g}-{high:g} Hz is not a band; use 0 <= low < high")
    if high > nyquist:
        raise ConfigError(
            f"band-pass {low:g}-{high:g} Hz reaches above Nyquist ({nyquist:g} Hz at {sample_rate:g} Hz); "
            f"keep high <= {nyquist:g}"
        )
    if not 1 <= order <= 12:
        raise ConfigError(f"band-pass order {order} is outside 1-12")
    if low == 0 and high == nyquist:
        return x.copy()
    if low == 0:
        sos = sps.butter(order, high, "lowpass", fs=sample_rate, output="sos")
    elif high == nyquist:
        sos = sps.butter(order, low, "highpass", fs=sample_rate, output="sos")
    else:
        sos = sps.butter(order, [low, high], "bandpass", fs=sample_rate, output="sos")
    return sps.sosfiltfilt(sos, x)


def kurtosis(x: np.ndarray) -> float:
    """Normalised fourth moment (3 for Gaussian noise)."""
    c = np.asarray(x, dtype=np.float64) - np.mean(x)
    return float(np.mean(c**4) / np.mean(c**2) ** 2)


def med(
    x: np.ndarray, filter_length: int = 30, iterations: int = 30, tol: float = 1e-4
) -> tuple[np.ndarray, np.ndarray]:
    """Minimum entropy deconvolution (Wiggins 1978; Sawalhi, Randall & Endo 2007): the FIR filter f that
    maximises the kurtosis of y = f * x, by the fixed-point iteration f ← R⁻¹ b, b[l] = Σ_t y[t]³ x[t - l],
    R the signal's autocorrelation (Toeplitz) matrix. Sharpens the impacts that the transfer path smeared.

    Returns (y, f): y = f * x with the length of x (its first ``filter_length - 1`` samples see the zeros
    before the recording), f of unit norm.
    """
    x = _one_signal(x, "MED")
    if not 2 <= filter_length <= x.size // 4:
        raise ConfigError(f"MED filter_length {filter_length} must lie in 2..{x.size // 4} (a quarter of the signal)")
    if iterations < 1:
        raise ConfigError(f"MED iterations {iterations} must be 1 or more")
    x = x - x.mean()
    n, m = x.size, filter_length
    corr = np.array([x[: n - lag] @ x[lag:] for lag in range(m)])
    corr[0] *= 1 + 1e-9  # keeps R invertible for a signal with a flat spectrum
    f = np.zeros(m)
    f[m // 2] = 1.0  # a delayed delta: start from the signal itself
    previous = -np.inf
    for _ in range(iterations):
        y = sps.fftconvolve(x, f)[m - 1 : n]  # the outputs whose every tap sees the signal
        current = kurtosis(y)
        if abs(current - previous) < tol * max(abs(current), 1.0):
            break
        previous = current
        # y[j] is output t = j + m - 1, so b[l] = Σ_j y³[j] x[j + m - 1 - l]: lags n-m .. n-1 of x ⋆ y³
        b = sps.fftconvolve(x, (y**3)[::-1])[n - m : n][::-1]
        f = linalg.solve_toeplitz(corr, b)
        f /= np.linalg.norm(f)
    return sps.fftconvolve(x, f)[:n], f


def vmd(
    x: np.ndarray,
    n_modes: int,
    alpha: float = 2000.0,
    tau: float = 0.0,
    tol: float = 1e-7,
    max_iter: int = 500,
    sample_rate: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Variational mode decomposition (Dragomiretskiy & Zosso 2014, IEEE TSP 62(3), Algorithm 2, in the
    form of the authors' reference code).

    ADMM in the frequency domain on the mirror-extended signal: each mode's one-sided spectrum is the
    Wiener-filtered residual around its centre frequency, u_k ← (f - Σ_{i≠k} u_i - λ/2) / (1 + α(ω - ω_k)²)
    (Gauss-Seidel over k), ω_k the centre of gravity of its power, and the dual λ ascends by ``tau`` (0: no
    exact reconstruction is enforced, noise is allowed). Centre frequencies start evenly spread on
    [0, 0.5) cycles per sample; no mode is pinned at DC. The signal is scaled to unit variance inside, so
    ``tol`` means the same for any amplitude.

    Returns (modes (n_modes, len(x)) sorted by centre frequency, centre frequencies in Hz of ``sample_rate``).
    """
    x = _one_signal(x, "VMD")
    limit = min(MAX_VMD_MODES, x.size // 16)
    if not 1 <= n_modes <= limit:
        raise ConfigError(f"VMD n_modes = {n_modes}: use 1..{limit} (each mode needs a band of its own; 2-8 is usual)")
    if alpha <= 0 or tau < 0 or max_iter < 1:
        raise ConfigError(f"VMD needs alpha > 0, tau >= 0 and max_iter >= 1 (got {alpha:g}, {tau:g}, {max_iter})")
    scale = float(np.std(x)) or 1.0
    n, half = x.size, x.size // 2
    mirrored = np.concatenate([x[:half][::-1], x, x[half:][::-1]]) / scale  # 2n samples: the ends meet smoothly
    size, centre = mirrored.size, n  # fftshift order: bin `centre` is frequency 0
    # only the one-sided half is iterated: the negative frequencies of every mode stay 0 throughout
    pos = np.fft.fftshift(np.fft.fftfreq(size))[centre:]  # 0 .. 0.5 cycles per sample
    f_plus = np.fft.fftshift(np.fft.fft(mirrored))[centre:]
    omega = 0.5 / n_modes * np.arange(n_modes)
    u = np.zeros((n_modes, pos.size), dtype=complex)
    lam = np.zeros(pos.size, dtype=complex)
    total = np.zeros(pos.size, dtype=complex)
    for _ in range(max_iter):
        change = 0.0
        for k in range(n_modes):
            total -= u[k]
            new = (f_plus - total - lam / 2) / (1 + alpha * (pos - omega[k]) ** 2)
            change += float(np.sum(np.abs(new - u[k]) ** 2))
            u[k] = new
            total += new
            power = new.real**2 + new.imag**2
            if power.sum() > 0:
                omega[k] = float(pos @ power / power.sum())
        if tau:
            lam = lam + tau * (total - f_plus)
        if change / size < tol:
            break
    # real modes: the one-sided spectra made Hermitian, inverted, the mirrored ends cut away
    full = np.zeros((n_modes, size), dtype=complex)
    full[:, centre:] = u
    full[:, 1 : centre + 1] = np.conj(u[:, ::-1])
    full[:, 0] = np.conj(full[:, -1])
    modes = np.real(np.fft.ifft(np.fft.ifftshift(full, axes=1), axis=1))[:, half : half + n] * scale
    order = np.argsort(omega)
    return modes[order], omega[order] * sample_rate


def vmd_reconstruct(modes: np.ndarray, keep: list[int] | None = None, weights: list[float] | None = None) -> np.ndarray:
    """The sum of the kept modes (indices into ``modes``, lowest centre frequency first), or their weighted sum."""
    modes = np.asarray(modes)
    if weights is not None:
        if len(weights) != len(modes):
            raise ConfigError(f"VMD weights: {len(weights)} given for {len(modes)} modes; give one per mode")
        return np.tensordot(np.asarray(weights, dtype=np.float64), modes, axes=1)
    keep = list(range(len(modes))) if keep is None else keep
    bad = [k for k in keep if not 0 <= k < len(modes)]
    if bad:
        raise ConfigError(f"VMD keep {bad}: modes are numbered 0..{len(modes) - 1}")
    return modes[keep].sum(axis=0)


STEPS = ("bandpass", "med", "vmd")
_PARAMS = {
    "bandpass": {"low", "high", "order"},
    "med": {"filter_length", "iterations"},
    "vmd": {"n_modes", "alpha", "tau", "tol", "max_iter", "keep", "weights"},
}


def apply_steps(x: np.ndarray, sample_rate: float, steps: list[dict]) -> np.ndarray:
    """``x`` through each step in order; a step is ``{"kind": "bandpass" | "med" | "vmd", **parameters}``
    (band-pass ``high`` 0 = Nyquist; VMD keeps ``keep`` modes or sums them with ``weights``, else all)."""
    check_steps(steps, sample_rate)
    for number, step in enumerate(steps):
        kind, params = step["kind"], {k: v for k, v in step.items() if k != "kind"}
        try:
            if kind == "bandpass":
                high = params.get("high") or sample_rate / 2
                x = bandpass(x, sample_rate, params.get("low", 0.0), high, params.get("order", 4))
            elif kind == "med":
                x = med(x, **params)[0]
            else:
                keep, weights = params.pop("keep", None), params.pop("weights", None)
                modes, _ = vmd(x, sample_rate=sample_rate, **params)
                x = vmd_reconstruct(modes, keep=keep or None, weights=weights or None)
        except (ConfigError, DataError) as err:
            raise type(err)(f"preprocessing step {number} ({kind}): {err}") from None
    return x


def check_steps(steps: list[dict], sample_rate: float) -> None:
    """Fail before any compute: every step's kind, parameter names and limits that need no signal
    (a band below Nyquist, a filter order, a mode count) checked as ``apply_steps`` would."""
    for number, step in enumerate(steps):
        kind = step.get("kind")
        where = f"preprocessing step {number} ({kind})"
        if kind not in STEPS:
            raise ConfigError(f"preprocessing step {number}: kind {kind!r} is unknown; use one of {', '.join(STEPS)}")
        extra = sorted(set(step) - _PARAMS[kind] - {"kind"})
        if extra:
            raise ConfigError(
                f"{where}: unknown parameter(s) {', '.join(extra)}; it takes {', '.join(sorted(_PARAMS[kind]))}"
            )
        if kind == "bandpass":
            low, high, nyquist = step.get("low", 0.0), step.get("high") or sample_rate / 2, sample_rate / 2
            if not 0 <= low < high or high > nyquist:
                raise ConfigError(
                    f"{where}: band {low:g}-{high:g} Hz must satisfy 0 <= low < high <= {nyquist:g} (Nyquist)"
                )
        elif kind == "med" and step.get("filter_length", 30) < 2:
            raise ConfigError(f"{where}: filter_length must be 2 or more")
        elif kind == "vmd" and not 1 <= step.get("n_modes", 0) <= MAX_VMD_MODES:
            raise ConfigError(f"{where}: n_modes must lie in 1..{MAX_VMD_MODES} (each mode needs a band of its own)")
