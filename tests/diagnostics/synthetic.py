"""Synthetic bearing signals for the diagnostics tests: impacts at a fault rate exciting a resonance."""

from __future__ import annotations

import numpy as np


def impact_signal(
    rate: float,
    n: int,
    fault_hz: float,
    resonance_hz: float,
    *,
    noise: float = 0.3,
    shaft_hz: float = 0.0,
    tone: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """Impacts at ``fault_hz`` (slightly jittered), each ringing a damped ``resonance_hz`` mode, plus a shaft
    tone and Gaussian noise; with ``shaft_hz`` the impacts are amplitude-modulated at the shaft rate (an inner
    race carried through the load zone)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    times = np.arange(0.01, n / rate, 1 / fault_hz)
    times = times + rng.normal(0, 1e-5, times.size)
    impulses = np.zeros(n)
    idx = (times * rate).astype(int)
    gain = 1 + 0.8 * np.cos(2 * np.pi * shaft_hz * times) if shaft_hz else np.ones(times.size)
    impulses[idx[idx < n]] = gain[idx < n]
    ring = np.exp(-t[: int(0.004 * rate)] * 900) * np.sin(2 * np.pi * resonance_hz * t[: int(0.004 * rate)])
    x = np.convolve(impulses, ring)[:n]
    x = x / x.std() + noise * rng.standard_normal(n)
    if tone:
        x += tone * np.sin(2 * np.pi * 50 * t)
    return x
