"""Batched, seeded augmentations of vibration windows (B, 1, L) and the progressive stage schedule.

Each augmentation draws its per-sample choices (apply or not, amount) from a ``torch.Generator`` in one
call, so a batch costs a few tensor ops whatever its size and the same seed gives the same batch. Random
numbers are drawn on the generator's device (CPU by default) and moved to the batch's device.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch

# Impulse heights, in units of the window's std: strong enough to look like a knock, not to swamp it.
IMPULSE_AMPLITUDE = (2.0, 6.0)
# Interior control frequencies of the random equaliser's gain curve: a few broad bumps and dips, as a
# changed transfer path or load reshapes the spectrum (FilterAugment, Nam et al. 2022, uses 3-6 bands).
EQ_POINTS = 4


@dataclass(frozen=True)
class SignalAugment:
    """One stage of vibration augmentation; every amount is a maximum, drawn per sample."""

    noise_std: float = 0.0  # Gaussian noise std, relative to each window's std
    shift: float = 0.0  # circular time shift, fraction of the window (±)
    scale: float = 0.0  # amplitude scaling 1 ± scale
    warp: float = 0.0  # time warping: speed 1 ± warp, length kept
    mask: float = 0.0  # zero a contiguous run of up to this fraction of the window
    impulses: int = 0  # add 1..impulses spikes
    eq_db: float = 0.0  # random equaliser: smooth gain curve over frequency within ± eq_db dB
    prob: float = 0.5  # chance that each augmentation touches a given sample

    @classmethod
    def of(cls, stage: Any) -> SignalAugment:
        """Pick this class's fields from a mapping or any object with same-named attributes."""
        get = stage.get if isinstance(stage, Mapping) else lambda k, d: getattr(stage, k, d)
        return cls(**{f.name: get(f.name, f.default) for f in fields(cls)})

    @property
    def active(self) -> bool:
        return self.prob > 0 and any(amount for _, amount in _steps(self))


def _gen_device(generator: torch.Generator | None) -> torch.device:
    return generator.device if generator is not None else torch.device("cpu")


def _rand(shape: tuple[int, ...], generator: torch.Generator | None, like: torch.Tensor) -> torch.Tensor:
    """Uniform [0, 1) drawn on the generator's device, returned on the batch's device and dtype."""
    return torch.rand(shape, generator=generator, device=_gen_device(generator)).to(like.device, like.dtype)


def _randn(shape: tuple[int, ...], generator: torch.Generator | None, like: torch.Tensor) -> torch.Tensor:
    return torch.randn(shape, generator=generator, device=_gen_device(generator)).to(like.device, like.dtype)


def _chosen(x: torch.Tensor, prob: float, generator: torch.Generator | None) -> torch.Tensor:
    """(B,) bool: which samples this augmentation touches."""
    return _rand((x.shape[0],), generator, x) < prob


def _per_sample(values: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(B,) → (B, 1, ..., 1) broadcastable over x."""
    return values.view(-1, *([1] * (x.dim() - 1)))


def add_noise(x: torch.Tensor, std: float, prob: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """x + N(0, (u · std · σ_window)²) on chosen samples, u ~ U[0, 1)."""
    amount = _rand((x.shape[0],), generator, x) * std * _chosen(x, prob, generator)
    sigma = x.std(dim=-1, keepdim=True)
    return x + _randn(tuple(x.shape), generator, x) * sigma * _per_sample(amount, x)


def scale_amplitude(
    x: torch.Tensor, scale: float, prob: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """x · (1 + U[-scale, scale]) on chosen samples."""
    factor = 1 + (2 * _rand((x.shape[0],), generator, x) - 1) * scale * _chosen(x, prob, generator)
    return x * _per_sample(factor, x)


def time_shift(x: torch.Tensor, shift: float, prob: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Circular roll of chosen samples by up to ± shift · L samples (one gather)."""
    length = x.shape[-1]
    amount = ((2 * _rand((x.shape[0],), generator, x) - 1) * shift * length).round().long()
    amount = amount * _chosen(x, prob, generator)
    idx = (torch.arange(length, device=x.device)[None, :] - amount[:, None]) % length  # (B, L)
    return x.gather(-1, idx.view(x.shape[0], *([1] * (x.dim() - 2)), length).expand_as(x))


def _interp(x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    """Read x (B, ..., L) at fractional positions pos (B, L) by linear interpolation."""
    length = x.shape[-1]
    lo = pos.floor().clamp(0, length - 1)
    frac = (pos - lo).view(x.shape[0], *([1] * (x.dim() - 2)), length)
    lo = lo.long()
    hi = (lo + 1).clamp(max=length - 1)
    shape = (x.shape[0], *([1] * (x.dim() - 2)), length)
    a = x.gather(-1, lo.view(shape).expand_as(x))
    b = x.gather(-1, hi.view(shape).expand_as(x))
    return a + (b - a) * frac


def time_warp(x: torch.Tensor, warp: float, prob: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Replay chosen samples at speed 1 ± warp about the window's centre, reflecting at the ends."""
    length = x.shape[-1]
    speed = 1 + (2 * _rand((x.shape[0],), generator, x) - 1) * warp * _chosen(x, prob, generator)
    centre = (length - 1) / 2
    t = torch.arange(length, device=x.device, dtype=x.dtype)
    pos = (t[None, :] - centre) * speed[:, None] + centre
    # reflect once at each end (|speed - 1| ≤ 1 keeps positions within one window of the edges)
    pos = pos.abs()
    pos = torch.where(pos > length - 1, 2 * (length - 1) - pos, pos).clamp(0, length - 1)
    return _interp(x, pos)


def random_eq(x: torch.Tensor, db: float, prob: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Filter chosen samples by a random gain curve: piecewise linear in dB between the spectrum's ends and
    EQ_POINTS random frequencies, each point's gain U[-db, db]. Other samples come back unchanged."""
    b, length = x.shape[0], x.shape[-1]
    n_freq = length // 2 + 1
    inner = _rand((b, EQ_POINTS), generator, x).sort(dim=-1).values * (n_freq - 1)
    ends = torch.zeros(b, 1, device=x.device, dtype=x.dtype)
    points = torch.cat([ends, inner, ends + (n_freq - 1)], dim=1).contiguous()  # (B, P) rising
    gain = (2 * _rand((b, EQ_POINTS + 2), generator, x) - 1) * db
    chosen = _chosen(x, prob, generator)
    freq = torch.arange(n_freq, device=x.device, dtype=x.dtype).expand(b, n_freq).contiguous()
    right = torch.searchsorted(points, freq, right=True).clamp(1, EQ_POINTS + 1)
    lo, hi = points.gather(1, right - 1), points.gather(1, right)
    w = ((freq - lo) / (hi - lo).clamp_min(1e-6)).clamp(0, 1)
    curve_db = gain.gather(1, right - 1) * (1 - w) + gain.gather(1, right) * w  # (B, F)
    curve = (10 ** (curve_db / 20)).view(b, *([1] * (x.dim() - 2)), n_freq)
    out = torch.fft.irfft(torch.fft.rfft(x, dim=-1) * curve, n=length, dim=-1).to(x.dtype)
    return torch.where(_per_sample(chosen, x), out, x)


def random_mask(x: torch.Tensor, mask: float, prob: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Zero a contiguous run of U[0, mask) · L samples at a random place in chosen samples."""
    length = x.shape[-1]
    n = (_rand((x.shape[0],), generator, x) * mask * length).long() * _chosen(x, prob, generator)
    start = (_rand((x.shape[0],), generator, x) * (length - n + 1)).long()
    t = torch.arange(length, device=x.device)[None, :]
    hole = (t >= start[:, None]) & (t < (start + n)[:, None])  # (B, L)
    return x.masked_fill(hole.view(x.shape[0], *([1] * (x.dim() - 2)), length), 0.0)


def add_impulses(x: torch.Tensor, impulses: int, prob: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Add 1..impulses single-sample spikes of ± IMPULSE_AMPLITUDE × the window's std to chosen samples."""
    if impulses <= 0:
        return x
    b, length = x.shape[0], x.shape[-1]
    count = (_rand((b,), generator, x) * impulses).long() + 1
    count = count * _chosen(x, prob, generator)
    where = (_rand((b, impulses), generator, x) * length).long().clamp(max=length - 1)
    lo, hi = IMPULSE_AMPLITUDE
    height = lo + (hi - lo) * _rand((b, impulses), generator, x)
    sign = torch.where(_rand((b, impulses), generator, x) < 0.5, -1.0, 1.0).to(x.dtype)
    live = torch.arange(impulses, device=x.device)[None, :] < count[:, None]
    sigma = x.reshape(b, -1).std(dim=-1, keepdim=True)
    spikes = torch.zeros(b, length, device=x.device, dtype=x.dtype)
    spikes.scatter_add_(1, where, height * sign * live * sigma)
    return x + spikes.view(b, *([1] * (x.dim() - 2)), length)


def augment_batch(x: torch.Tensor, aug: SignalAugment, generator: torch.Generator | None = None) -> torch.Tensor:
    """Apply one stage: warp, equaliser, shift, scale, mask, impulses, noise, each on its own random samples.

    ``x`` is (B, 1, L) or (B, L) and keeps its shape, dtype and device; a zero amount or prob = 0 leaves
    the batch untouched.
    """
    if not aug.active:
        return x
    for fn, amount in _steps(aug):
        if amount:
            x = fn(x, amount, aug.prob, generator)
    return x


def _steps(aug: SignalAugment) -> tuple[tuple[Any, float], ...]:
    """(augmentation, amount) in the order a stage applies them; the one list of what a stage can do."""
    return (
        (time_warp, aug.warp),
        (random_eq, aug.eq_db),
        (time_shift, aug.shift),
        (scale_amplitude, aug.scale),
        (random_mask, aug.mask),
        (add_impulses, aug.impulses),
        (add_noise, aug.noise_std),
    )


def mixup(
    x: torch.Tensor, y_onehot: torch.Tensor, alpha: float, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mix each sample with a random partner of the batch: λ·x + (1-λ)·x[perm], λ ~ Beta(α, α) per sample.

    Works for any (B, ...) input; labels are (B, C) one-hot or soft. α ≤ 0 returns the inputs unchanged.
    """
    if alpha <= 0:
        return x, y_onehot
    b = x.shape[0]
    # torch's Beta sampler takes no generator: seed numpy's from it to stay reproducible
    seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=_gen_device(generator)).item())
    lam = torch.as_tensor(np.random.default_rng(seed).beta(alpha, alpha, size=b), device=x.device)
    perm = torch.randperm(b, generator=generator, device=_gen_device(generator)).to(x.device)
    lx = _per_sample(lam.to(x.dtype), x)
    ly = lam.to(y_onehot.dtype)[:, None]
    return lx * x + (1 - lx) * x[perm], ly * y_onehot + (1 - ly) * y_onehot[perm]
