"""Segmentation hooks: BCE-with-logits + λ·Dice on multi-label masks, joint image + mask augmentation.

A batch is a dict: ``x`` (B, C, H, W) normalised images and ``mask`` (B, K, H, W) in {0, 1}.
Validation collects per (image, class) pixel counts rather than whole masks, so an epoch's Dice and
IoU cost almost no memory; both follow ``faultcli.metrics.dice_iou`` (an empty pair counts as 1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from faultcli.engine.engine import Engine, TaskHooks
from faultcli.losses import BCEDiceLoss

# (x, mask, epoch, generator) -> (x, mask); runs on the batch's device
MaskAugment = Callable[[torch.Tensor, torch.Tensor, int, torch.Generator], tuple[torch.Tensor, torch.Tensor]]


def stage_augment(stages: list[tuple[int, dict[str, Any]]]) -> MaskAugment:
    """An augmentation that uses, at each epoch, the last stage whose start epoch has been reached.

    ``stages`` are ``(start_epoch, amounts)`` with the keyword amounts of ``augment_images``
    (flip, rotate, brightness, resized_crop, prob).
    """
    from faultcli.vision_augment import augment_images

    ordered = sorted(stages, key=lambda s: s[0])

    def augment(x: torch.Tensor, mask: torch.Tensor, epoch: int, generator: torch.Generator):
        current = None
        for start, amounts in ordered:
            if epoch >= start:
                current = amounts
        if current is None:
            return x, mask
        x, mask, _ = augment_images(x, mask=mask, generator=generator, **current)
        return x, mask

    return augment


def mask_counts(logits: torch.Tensor, masks: torch.Tensor, threshold: float = 0.5) -> dict[str, torch.Tensor]:
    """Per (image, class) intersection, predicted and true pixel counts of ``sigmoid > threshold``."""
    pred = torch.sigmoid(logits.float()) > threshold
    true = masks > 0.5
    return {
        "inter": (pred & true).sum(dim=(2, 3)).float(),
        "pred": pred.sum(dim=(2, 3)).float(),
        "true": true.sum(dim=(2, 3)).float(),
    }


def dice_iou_from_counts(inter: torch.Tensor, pred: torch.Tensor, true: torch.Tensor) -> tuple[float, float]:
    """Mean Dice and IoU over (image, class) pairs; a pair empty in both prediction and truth scores 1."""
    total = pred + true
    empty = total == 0
    dice = torch.where(empty, 1.0, 2 * inter / total.clamp(min=1))
    iou = torch.where(empty, 1.0, inter / (total - inter).clamp(min=1))
    return float(dice.mean()), float(iou.mean())


class SegmentationHooks(TaskHooks):
    """Loss = BCE-with-logits + ``dice_weight`` · soft Dice; figures: loss, dice, iou at threshold 0.5."""

    def __init__(self, dice_weight: float = 0.8, *, augment: MaskAugment | None = None, seed: int = 0) -> None:
        self.loss_fn = BCEDiceLoss(dice_weight)
        self.augment, self.seed = augment, seed
        self.generator = torch.Generator()

    def on_epoch_start(self, engine: Engine, epoch: int) -> None:
        self.generator.manual_seed(self.seed * 7919 + epoch)

    def training_step(self, model: nn.Module, batch: dict[str, Any], epoch: int) -> tuple[torch.Tensor, dict]:
        x, mask = batch["x"], batch["mask"]
        if self.augment is not None:
            x, mask = self.augment(x, mask, epoch, self.generator)
        logits = model(x)
        loss = self.loss_fn(logits, mask)
        counts = mask_counts(logits.detach(), mask)
        dice, _ = dice_iou_from_counts(counts["inter"], counts["pred"], counts["true"])
        return loss, {"dice": dice}

    def validation_step(self, model: nn.Module, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        logits = model(batch["x"])
        loss = self.loss_fn(logits, batch["mask"])
        # the batch mean repeated per image: the epoch mean is then weighted by batch size
        return {"loss": loss.detach().float().expand(len(logits)), **mask_counts(logits, batch["mask"])}

    def validation_metrics(self, collected: dict[str, torch.Tensor]) -> dict[str, float]:
        dice, iou = dice_iou_from_counts(collected["inter"], collected["pred"], collected["true"])
        return {"loss": float(collected["loss"].mean()), "dice": dice, "iou": iou}
