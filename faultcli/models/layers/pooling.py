"""Sequence pooling that keeps the peak (max), the level (mean) and what a learned query finds (attention)."""

from __future__ import annotations

import torch
from torch import nn


class MixedPool1d(nn.Module):
    """Concatenates max, mean and attention pooling over time: (B, T, D) → (B, 3·D)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.score = nn.Linear(dim, 1)
        self.out_features = 3 * dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, D) → (B, 3·D)."""
        weights = torch.softmax(self.score(x), dim=1)  # (B, T, 1)
        return torch.cat([x.amax(dim=1), x.mean(dim=1), (weights * x).sum(dim=1)], dim=-1)
