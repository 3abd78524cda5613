"""Softmax classifier head used at inference."""

from __future__ import annotations

import torch
from torch import nn

from faultcli.registry import register


class SoftmaxHead(nn.Module):
    """Dropout → Linear → BatchNorm → ReLU → Linear: features (B, D) → logits (B, classes)."""

    def __init__(self, in_features: int, num_classes: int, hidden: int | None = None, dropout: float = 0.3) -> None:
        super().__init__()
        hidden = hidden or in_features
        self.net = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(in_features, hidden, bias=False),
            nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@register("head", "softmax")
def softmax_head(in_features: int, num_classes: int, hidden: int | None = None, dropout: float = 0.3) -> SoftmaxHead:
    """Builder of :class:`SoftmaxHead`."""
    return SoftmaxHead(in_features, num_classes, hidden=hidden, dropout=dropout)
