"""Hierarchical fusion: gated weighted sum → cross-attention over the modality tokens → MLP."""

from __future__ import annotations

import torch
from torch import nn

from faultcli.models.fusion.simple import ModalityGate
from faultcli.registry import register


class HierarchicalFusion(nn.Module):
    """Three levels.

    1. A gate gives per-sample modality weights; their weighted sum summarises the sample.
    2. That sum (query) attends over the modality tokens (keys/values, tagged with a learned modality
       embedding) to pull back detail the sum averaged away; residual + LayerNorm.
    3. An MLP maps the result to ``out_dim``.
    """

    def __init__(self, n_branches: int, in_dim: int, out_dim: int, dropout: float = 0.1, heads: int = 4) -> None:
        super().__init__()
        self.gate = ModalityGate(n_branches, in_dim)
        self.modality = nn.Parameter(torch.zeros(n_branches, in_dim))
        nn.init.trunc_normal_(self.modality, std=0.02)
        self.cross = nn.MultiheadAttention(in_dim, heads, dropout=dropout, batch_first=True)
        self.norm = nn.LayerNorm(in_dim)
        self.mlp = nn.Sequential(nn.Linear(in_dim, in_dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(in_dim, out_dim))
        self.out_features = out_dim

    def forward(self, feats: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        fused, weights = self.gate(feats)
        tokens = torch.stack(feats, dim=1) + self.modality  # (B, n, D)
        query = fused.unsqueeze(1)
        attended, _ = self.cross(query, tokens, tokens, need_weights=False)
        return self.mlp(self.norm(fused + attended.squeeze(1))), weights


@register("fusion", "hierarchical")
def hierarchical(
    n_branches: int, in_dim: int, out_dim: int, dropout: float = 0.1, heads: int = 4
) -> HierarchicalFusion:
    """Builder of :class:`HierarchicalFusion`."""
    return HierarchicalFusion(n_branches, in_dim, out_dim, dropout, heads)
