"""Simple fusions of branch features: a gated weighted sum, or concatenation.

A fusion takes the list of branch features (each (B, in_dim)) and returns ``(fused (B, out_dim), weights)``
where ``weights`` is the (B, n_branches) modality weighting, or None when the fusion has none.
"""

from __future__ import annotations

import torch
from torch import nn

from faultcli.registry import register


class ModalityGate(nn.Module):
    """Per-sample modality weights: softmax over branches of a small MLP on the concatenated features."""

    def __init__(self, n_branches: int, in_dim: int, hidden: int = 64) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(n_branches * in_dim, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, n_branches)
        )

    def forward(self, feats: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns the weighted sum (B, in_dim) and the weights (B, n_branches), rows summing to 1."""
        weights = torch.softmax(self.mlp(torch.cat(feats, dim=-1)), dim=-1)
        fused = (weights.unsqueeze(-1) * torch.stack(feats, dim=1)).sum(dim=1)
        return fused, weights


class WeightedFusion(nn.Module):
    """Level 1 only: gated weighted sum of the branch features, then a linear map to ``out_dim``."""

    def __init__(self, n_branches: int, in_dim: int, out_dim: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.gate = ModalityGate(n_branches, in_dim)
        self.proj = nn.Sequential(nn.Dropout(dropout), nn.Linear(in_dim, out_dim))
        self.out_features = out_dim

    def forward(self, feats: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        fused, weights = self.gate(feats)
        return self.proj(fused), weights


class ConcatFusion(nn.Module):
    """Concatenated branch features → MLP to ``out_dim``; no modality weights."""

    def __init__(self, n_branches: int, in_dim: int, out_dim: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(n_branches * in_dim, in_dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(in_dim, out_dim)
        )
        self.out_features = out_dim

    def forward(self, feats: list[torch.Tensor]) -> tuple[torch.Tensor, None]:
        return self.mlp(torch.cat(feats, dim=-1)), None


@register("fusion", "weighted")
def weighted(n_branches: int, in_dim: int, out_dim: int, dropout: float = 0.1) -> WeightedFusion:
    """Builder of :class:`WeightedFusion`."""
    return WeightedFusion(n_branches, in_dim, out_dim, dropout)


@register("fusion", "concat")
def concat(n_branches: int, in_dim: int, out_dim: int, dropout: float = 0.1) -> ConcatFusion:
    """Builder of :class:`ConcatFusion`."""
    return ConcatFusion(n_branches, in_dim, out_dim, dropout)
