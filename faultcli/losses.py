"""Losses: focal (class-balanced α, label smoothing, soft targets), ArcFace CE, BCE + Dice, InfoNCE."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def class_balanced_alpha(counts: np.ndarray | list[int], beta: float) -> torch.Tensor:
    """Per-class weights from the effective number of samples (Cui et al. 2019), mean 1."""
    counts = np.maximum(np.asarray(counts, dtype=np.float64), 1.0)
    if beta <= 0:
        return torch.ones(len(counts), dtype=torch.float32)
    effective = (1.0 - np.power(beta, counts)) / (1.0 - beta)
    weights = 1.0 / effective
    return torch.as_tensor(weights / weights.mean(), dtype=torch.float32)


def smooth_targets(targets: torch.Tensor, num_classes: int, smoothing: float) -> torch.Tensor:
    """Class indices or soft targets → smoothed probability rows."""
    if targets.dim() == 1:
        targets = F.one_hot(targets, num_classes).float()
    return targets * (1.0 - smoothing) + smoothing / num_classes


class FocalLoss(nn.Module):
    """Focal loss −α_y (1 − p)^γ log p, averaged over soft (smoothed or mixed) targets.

    With γ = 0 and no α it is cross-entropy with label smoothing.
    """

    def __init__(self, gamma: float = 2.0, alpha: torch.Tensor | None = None, label_smoothing: float = 0.0) -> None:
        super().__init__()
        self.gamma, self.label_smoothing = gamma, label_smoothing
        self.register_buffer("alpha", alpha if alpha is not None else torch.empty(0), persistent=False)

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        soft = smooth_targets(targets, logits.shape[1], self.label_smoothing)
        log_p = F.log_softmax(logits.float(), dim=1)
        focal = (1.0 - log_p.exp()).pow(self.gamma) if self.gamma else 1.0
        per_class = -soft * focal * log_p
        if self.alpha.numel():
            per_class = per_class * self.alpha
        return per_class.sum(dim=1).mean()


def dice_loss(logits: torch.Tensor, masks: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """Soft Dice over each (image, class) map, averaged: 1 − 2|P∩T| / (|P| + |T|)."""
    probs = torch.sigmoid(logits.float()).flatten(2)
    masks = masks.float().flatten(2)
    inter = (probs * masks).sum(-1)
    union = probs.sum(-1) + masks.sum(-1)
    return (1.0 - (2.0 * inter + eps) / (union + eps)).mean()


class BCEDiceLoss(nn.Module):
    """BCE-with-logits + λ·Dice, the usual loss for thin, small defect masks."""

    def __init__(self, dice_weight: float = 0.8) -> None:
        super().__init__()
        self.dice_weight = dice_weight

    def forward(self, logits: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        bce = F.binary_cross_entropy_with_logits(logits.float(), masks.float())
        return bce + self.dice_weight * dice_loss(logits, masks)


def info_nce(a: torch.Tensor, b: torch.Tensor, temperature: float) -> torch.Tensor:
    """Symmetric InfoNCE between two batches of embeddings whose rows correspond (CLIP, SimCLR)."""
    a, b = F.normalize(a, dim=1), F.normalize(b, dim=1)
    logits = a @ b.t() / temperature
    target = torch.arange(len(a), device=a.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))
