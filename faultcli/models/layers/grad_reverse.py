"""Gradient reversal (Ganin & Lempitsky 2015, DANN): identity going forward, −λ·grad going back, so a
feature extractor learns to fool the domain discriminator that sits behind it."""

from __future__ import annotations

import math

import torch
from torch import nn


class _ReverseGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: float) -> torch.Tensor:  # type: ignore[override]
        ctx.weight = weight
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        return -ctx.weight * grad, None


def grad_reverse(x: torch.Tensor, weight: float = 1.0) -> torch.Tensor:
    """``x`` unchanged; the gradient flowing back through it is multiplied by −``weight``."""
    return _ReverseGradient.apply(x, float(weight))


class GradientReversal(nn.Module):
    """:func:`grad_reverse` as a layer. ``weight`` (λ) is a plain attribute, set per step from a schedule
    such as :func:`dann_weight`; it is not saved, since the schedule gives it again from training progress."""

    def __init__(self, weight: float = 1.0) -> None:
        super().__init__()
        self.weight = float(weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return grad_reverse(x, self.weight)

    def extra_repr(self) -> str:
        return f"weight={self.weight}"


def dann_weight(progress: float, gamma: float = 10.0, max_weight: float = 1.0) -> float:
    """DANN's reversal weight λ(p) = max_weight·(2 / (1 + exp(−γ·p)) − 1) for training progress p in [0, 1]:
    0 at the start, when the discriminator's gradient is noise, rising to ≈ max_weight."""
    p = min(max(float(progress), 0.0), 1.0)
    return max_weight * (2.0 / (1.0 + math.exp(-gamma * p)) - 1.0)
