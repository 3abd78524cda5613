"""MLP projection head for contrastive pretraining (SimCLR-style)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from faultcli.registry import register


class ProjectionHead(nn.Module):
    """Linear → BatchNorm → ReLU → Linear, then L2 normalisation: (B, D) → (B, out_dim) on the unit sphere."""

    def __init__(self, in_features: int, out_dim: int = 64, hidden: int | None = None) -> None:
        super().__init__()
        hidden = hidden or in_features
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden, bias=False),
            nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, out_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.net(x), dim=-1)


@register("head", "projection")
def projection_head(in_features: int, out_dim: int = 64, hidden: int | None = None) -> ProjectionHead:
    """Builder of :class:`ProjectionHead`."""
    return ProjectionHead(in_features, out_dim=out_dim, hidden=hidden)
