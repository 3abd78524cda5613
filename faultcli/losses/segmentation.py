"""Segmentation losses on multi-label masks (B, K, H, W)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from faultcli.losses.registry import register_loss


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


@register_loss("bce_dice", target="masks")
def bce_dice(dice_weight: float = 0.8) -> BCEDiceLoss:
    """BCE-with-logits + λ·soft Dice (λ = segmentation.dice_weight)."""
    return BCEDiceLoss(dice_weight)
