"""ArcFace head (Deng et al. 2019): cosine logits with an additive angular margin on the true class."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from faultcli.registry import register


class ArcFaceHead(nn.Module):
    """L2-normalised features against L2-normalised class centres.

    ``forward(feats)`` returns ``s·cos θ`` (for inference or monitoring); ``forward(feats, labels)`` returns
    the training logits ``s·cos(θ + m)`` for the true class and ``s·cos θ`` for the others, to be fed to a
    cross-entropy loss.
    """

    def __init__(self, in_features: int, num_classes: int, margin: float = 0.3, scale: float = 30.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_classes, in_features))
        nn.init.xavier_uniform_(self.weight)
        self.margin = margin
        self.scale = scale
        # Past θ = π − m, cos(θ + m) would rise again; there the usual linear fallback keeps it monotonic.
        self._threshold = math.cos(math.pi - margin)
        self._fallback = math.sin(math.pi - margin) * margin

    def cosine(self, feats: torch.Tensor) -> torch.Tensor:
        """cos θ between each feature and each class centre, clamped into (−1, 1): (B, classes)."""
        cos = F.linear(F.normalize(feats, dim=-1), F.normalize(self.weight, dim=-1))
        return cos.clamp(-1.0 + 1e-7, 1.0 - 1e-7)

    def forward(self, feats: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Scaled cosine logits; with ``labels`` (B,) the true-class logit carries the margin."""
        cos = self.cosine(feats)
        if labels is None or self.margin == 0:
            return self.scale * cos
        sin = torch.sqrt((1.0 - cos * cos).clamp_min(1e-7))
        cos_m = cos * math.cos(self.margin) - sin * math.sin(self.margin)
        cos_m = torch.where(cos > self._threshold, cos_m, cos - self._fallback)
        target = F.one_hot(labels.long(), cos.shape[1]).bool()
        return self.scale * torch.where(target, cos_m, cos)


@register("head", "arcface")
def arcface_head(in_features: int, num_classes: int, margin: float = 0.3, scale: float = 30.0) -> ArcFaceHead:
    """Builder of :class:`ArcFaceHead`."""
    return ArcFaceHead(in_features, num_classes, margin=margin, scale=scale)
