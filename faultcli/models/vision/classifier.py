"""Image classifier: a timm backbone, optionally joined by the edge branch, then a linear head.

Same surface as every faultcli classifier: ``forward_features(x, edge=None) -> (B, num_features)``,
``forward_head``, ``forward``, ``modality_weights`` (the gate's (B, 2) backbone / edge shares of the last
batch, or None) and ``backbone`` (what the two-stage schedule freezes).
"""

from __future__ import annotations

import torch
from torch import nn

from faultcli.errors import DataError
from faultcli.models.base import Classifier
from faultcli.models.vision.backbones import create_backbone
from faultcli.models.vision.edge import EdgeEncoder
from faultcli.registry import create, register


class ImageClassifier(Classifier):
    """Images (B, in_chans, H, W), normalised, and edge maps (B, 1, H, W) in 0..1 → logits."""

    def __init__(
        self,
        num_classes: int,
        backbone: str = "resnet18",
        in_chans: int = 3,
        edge_branch: bool = False,
        edge_fusion: str = "gate",
        pretrained: bool = False,
        weights_path: str = "",
        dropout: float = 0.3,
        feature_dim: int = 128,
        edge_dim: int = 64,
        edge_width: int = 16,
    ) -> None:
        super().__init__()
        self.in_chans = in_chans
        self.backbone = create_backbone(backbone, in_chans=in_chans, pretrained=pretrained, weights_path=weights_path)
        width = int(self.backbone.num_features)
        self.edge: EdgeEncoder | None = None
        self.fusion: nn.Module | None = None
        if edge_branch:
            self.edge = EdgeEncoder(edge_dim, edge_width)
            self.fusion = create("edge_fusion", edge_fusion, backbone_dim=width, edge_dim=edge_dim, out_dim=feature_dim)
            width = feature_dim
        self.num_features = width
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(width, num_classes))
        self.arcface = None  # no margin head: ClassificationHooks skip the ArcFace term
        self.modality_weights: torch.Tensor | None = None

    @property
    def branch_names(self) -> list[str]:
        """Names of the ``modality_weights`` columns."""
        return ["backbone", "edge"]

    def forward_features(self, x: torch.Tensor, edge: torch.Tensor | None = None) -> torch.Tensor:
        """(B, in_chans, H, W) [+ edge (B, 1, H, W)] → features (B, num_features); records ``modality_weights``."""
        if x.dim() != 4 or x.shape[1] != self.in_chans:
            raise DataError(
                f"model expects images shaped (B, {self.in_chans}, H, W), got {tuple(x.shape)}; "
                f"use data.color = {'gray' if self.in_chans == 1 else 'rgb'} as at training"
            )
        feats = self.backbone(x)
        if self.edge is None:
            return feats
        if edge is None:
            raise DataError("this model has an edge branch but the batch has no edge maps; set data.edges = true")
        fused, weights = self.fusion(feats, self.edge(edge.to(feats.dtype)))
        self.modality_weights = None if weights is None else weights.detach()
        return fused

    def forward_head(self, feats: torch.Tensor) -> torch.Tensor:
        """Features (B, num_features) → logits (B, num_classes)."""
        return self.head(feats)


@register("model", "image_classifier")
def image_classifier(
    num_classes: int,
    backbone: str = "resnet18",
    in_chans: int = 3,
    edge_branch: bool = False,
    edge_fusion: str = "gate",
    pretrained: bool = False,
    weights_path: str = "",
    dropout: float = 0.3,
    feature_dim: int = 128,
) -> ImageClassifier:
    """A timm backbone (+ edge branch with gate or concat fusion) and a linear head."""
    return ImageClassifier(
        num_classes,
        backbone=backbone,
        in_chans=in_chans,
        edge_branch=edge_branch,
        edge_fusion=edge_fusion,
        pretrained=pretrained,
        weights_path=weights_path,
        dropout=dropout,
        feature_dim=feature_dim,
    )
