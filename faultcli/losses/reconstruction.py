"""Masked reconstruction for self-supervised pretraining on (B, C, T) windows: hide random time spans,
ask the model for the hidden samples, score only those."""

from __future__ import annotations

import torch


def mask_spans(
    x: torch.Tensor, ratio: float, span: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero about ``ratio`` of each window's samples in spans of ``span`` samples, the same spans in every channel.

    Each window gets ``round(ratio·T/span)`` (at least 1) non-overlapping spans, chosen among span-long
    slots that start at a random offset, so the masked share is that count·span/T (≈ ``ratio``) and spans
    fall anywhere in time. Returns (masked copy of ``x``, mask) with mask a bool tensor shaped like ``x``,
    True where a sample was hidden. Random draws come from ``generator`` (on the CPU), so one seed gives one mask.
    """
    if x.dim() != 3:
        raise ValueError(f"mask_spans takes (B, C, T) windows, got shape {tuple(x.shape)}")
    if not 0.0 < ratio < 1.0:
        raise ValueError(f"mask ratio must be in (0, 1), got {ratio}")
    batch, _, length = x.shape
    if not 1 <= span <= length // 2:
        raise ValueError(f"mask span must be 1 ... {length // 2} samples for windows of {length}, got {span}")
    # with any offset in [0, span) at least `slots` whole spans fit
    slots = (length - span + 1) // span
    count = min(max(round(ratio * length / span), 1), slots)
    offset = torch.randint(span, (batch, 1), generator=generator)
    chosen = torch.rand(batch, slots, generator=generator).argsort(dim=1)[:, :count]
    starts = offset + chosen * span  # (B, count)
    positions = (starts[:, :, None] + torch.arange(span)).reshape(batch, -1)
    hidden = torch.zeros(batch, length, dtype=torch.bool).scatter_(1, positions, True)
    mask = hidden.to(x.device)[:, None, :].expand_as(x).contiguous()
    return x.masked_fill(mask, 0.0), mask


def masked_reconstruction_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the masked samples only (``mask`` True, broadcast to ``pred``); 0 if none is masked."""
    if pred.shape != target.shape:
        raise ValueError(f"prediction {tuple(pred.shape)} and target {tuple(target.shape)} differ in shape")
    mask = mask.expand_as(pred)
    squared = torch.where(mask, (pred.float() - target.float()) ** 2, torch.zeros((), device=pred.device))
    return squared.sum() / mask.sum().clamp_min(1)
