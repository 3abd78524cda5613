"""Segmentation hooks: BCE-with-logits + λ·Dice on multi-label masks, joint image + mask augmentation.

A batch is a dict: ``x`` (B, C, H, W) normalised images and ``mask`` (B, K, H, W) in {0, 1}.
Validation collects per (image, class) pixel counts rather than whole masks, so an epoch's Dice and
IoU cost almost no memory; both come from ``segmentation.figures.dice_iou_from_counts``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from faultcli.engine.engine import Engine
from faultcli.engine.hooks import StepContext, TaskHooks
from faultcli.segmentation.figures import dice_iou_from_counts

# (x, mask, epoch, generator) -> (x, mask); runs on the batch's device
MaskAugment = Callable[[torch.Tensor, torch.Tensor, int, torch.Generator], tuple[torch.Tensor, torch.Tensor]]


def mask_counts(logits: torch.Tensor, masks: torch.Tensor, threshold: float = 0.5) -> dict[str, torch.Tensor]:
    """Per (image, class) intersection, predicted and true pixel counts of ``sigmoid > threshold``."""
    pred = torch.sigmoid(logits.float()) > threshold
    true = masks > 0.5
    return {
        "inter": (pred & true).sum(dim=(2, 3)).float(),
        "pred": pred.sum(dim=(2, 3)).float(),
        "true": true.sum(dim=(2, 3)).float(),
    }


def mean_dice_iou(counts: dict[str, torch.Tensor]) -> tuple[float, float]:
    """Mean Dice and IoU over the (image, class) pairs of ``mask_counts``."""
    dice, iou = dice_iou_from_counts(counts["inter"], counts["pred"], counts["true"])
    return float(dice.mean()), float(iou.mean())


class SegmentationHooks(TaskHooks):
    """Loss = the recipe's mask loss (BCE + λ·Dice); figures: loss, dice, iou at threshold 0.5."""

    train_metrics = {"loss": "min", "dice": "max"}
    val_metrics = {"loss": "min", "dice": "max", "iou": "max"}

    def __init__(self, loss_fn: nn.Module, *, augment: MaskAugment | None = None, seed: int = 0) -> None:
        self.loss_fn = loss_fn
        self.augment, self.seed = augment, seed
        self.generator = torch.Generator()

    def on_epoch_start(self, engine: Engine, epoch: int) -> None:
        self.generator.manual_seed(self.seed * 7919 + epoch)

    def training_step(self, model: nn.Module, batch: dict[str, Any], ctx: StepContext) -> tuple[torch.Tensor, dict]:
        x, mask = batch["x"], batch["mask"]
        if self.augment is not None:
            x, mask = self.augment(x, mask, ctx.epoch, self.generator)
        logits = model(x)
        loss = self.loss_fn(logits, mask)
        dice, _ = mean_dice_iou(mask_counts(logits.detach(), mask))
        return loss, {"dice": dice}

    def validation_step(self, model: nn.Module, batch: dict[str, Any], name: str = "") -> dict[str, torch.Tensor]:
        logits = model(batch["x"])
        loss = self.loss_fn(logits, batch["mask"])
        # the batch mean repeated per image: the epoch mean is then weighted by batch size
        return {"loss": loss.detach().float().expand(len(logits)), **mask_counts(logits, batch["mask"])}

    def validation_metrics(self, collected: dict[str, torch.Tensor], name: str = "") -> dict[str, float]:
        dice, iou = mean_dice_iou(collected)
        return {"loss": float(collected["loss"].mean()), "dice": dice, "iou": iou}
