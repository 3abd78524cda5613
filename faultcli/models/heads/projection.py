"""Projection head for contrastive pretraining (SimCLR): the loss is computed on its output, the encoder's
features before it are what is kept and finetuned."""

from __future__ import annotations

import torch
from torch import nn

from faultcli.registry import register


class ProjectionHead(nn.Module):
    """Linear → BatchNorm → ReLU → Linear: features (B, D) → embeddings (B, out_features)."""

    def __init__(self, in_features: int, out_features: int = 128, hidden: int | None = None) -> None:
        super().__init__()
        hidden = hidden or in_features
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden, bias=False),  # BatchNorm's shift makes a bias redundant
            nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, out_features),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@register("head", "projection")
def projection_head(in_features: int, out_features: int = 128, hidden: int | None = None) -> ProjectionHead:
    """Builder of :class:`ProjectionHead`."""
    return ProjectionHead(in_features, out_features=out_features, hidden=hidden)
