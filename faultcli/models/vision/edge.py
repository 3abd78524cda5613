"""The edge branch of the image classifier: a light CNN on the edge map, and two ways to join the backbone.

Edge maps (CLAHE + Canny, computed once in the data pipeline) are thin binary lines. A few strided
convolutions with average *and* max pooling keep the sparse line evidence that a plain average washes
out. A fusion takes (backbone features, edge features) and returns ``(fused (B, out_dim), weights)``,
``weights`` being the (B, 2) share of backbone vs edge in the fused vector, or None for concatenation.
"""

from __future__ import annotations

import torch
from torch import nn

from faultcli.registry import register


def _conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class EdgeEncoder(nn.Module):
    """Edge map (B, 1, H, W) in 0..1 → features (B, out_dim): four stride-2 convolutions, avg + max pooling."""

    def __init__(self, out_dim: int = 64, width: int = 16) -> None:
        super().__init__()
        self.convs = nn.Sequential(
            _conv(1, width), _conv(width, 2 * width), _conv(2 * width, 4 * width), _conv(4 * width, 4 * width)
        )
        self.proj = nn.Linear(8 * width, out_dim)
        self.out_features = out_dim

    def forward(self, edge: torch.Tensor) -> torch.Tensor:
        maps = self.convs(edge)
        pooled = torch.cat([maps.mean(dim=(2, 3)), maps.amax(dim=(2, 3))], dim=1)
        return self.proj(pooled)


def _project(cin: int, cout: int) -> nn.Sequential:
    # LayerNorm puts both branches on one scale, so the gate weighs content rather than magnitude
    return nn.Sequential(nn.Linear(cin, cout), nn.LayerNorm(cout))


class EdgeGateFusion(nn.Module):
    """Attention gate: per-channel a = σ(MLP([b; e])), fused = a·b + (1 − a)·e on projected features.

    ``weights`` (B, 2) are the mean gate values (backbone share, edge share), rows summing to 1.
    """

    def __init__(self, backbone_dim: int, edge_dim: int, out_dim: int, hidden: int = 64) -> None:
        super().__init__()
        self.backbone_proj, self.edge_proj = _project(backbone_dim, out_dim), _project(edge_dim, out_dim)
        self.gate = nn.Sequential(nn.Linear(2 * out_dim, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, out_dim))
        self.out_features = out_dim

    def forward(self, backbone: torch.Tensor, edge: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, e = self.backbone_proj(backbone), self.edge_proj(edge)
        a = torch.sigmoid(self.gate(torch.cat([b, e], dim=1)))
        share = a.mean(dim=1)
        return a * b + (1.0 - a) * e, torch.stack([share, 1.0 - share], dim=1)


class EdgeConcatFusion(nn.Module):
    """Ablation without the gate: the same projections, concatenated, then one linear map."""

    def __init__(self, backbone_dim: int, edge_dim: int, out_dim: int) -> None:
        super().__init__()
        self.backbone_proj, self.edge_proj = _project(backbone_dim, out_dim), _project(edge_dim, out_dim)
        self.mix = nn.Sequential(nn.GELU(), nn.Linear(2 * out_dim, out_dim))
        self.out_features = out_dim

    def forward(self, backbone: torch.Tensor, edge: torch.Tensor) -> tuple[torch.Tensor, None]:
        return self.mix(torch.cat([self.backbone_proj(backbone), self.edge_proj(edge)], dim=1)), None


@register("edge_fusion", "gate")
def edge_gate(backbone_dim: int, edge_dim: int, out_dim: int) -> EdgeGateFusion:
    """Builder of :class:`EdgeGateFusion`."""
    return EdgeGateFusion(backbone_dim, edge_dim, out_dim)


@register("edge_fusion", "concat")
def edge_concat(backbone_dim: int, edge_dim: int, out_dim: int) -> EdgeConcatFusion:
    """Builder of :class:`EdgeConcatFusion`."""
    return EdgeConcatFusion(backbone_dim, edge_dim, out_dim)
