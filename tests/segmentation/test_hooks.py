"""SegmentationHooks: the combined loss against a hand computation, validation Dice / IoU against
hand-counted masks, and augmentation stages chosen by epoch."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from faultcli.engine.engine import collate_outputs
from faultcli.engine.hooks import StepContext
from faultcli.losses import BCEDiceLoss
from faultcli.segmentation.hooks import SegmentationHooks, mask_counts, mean_dice_iou
from faultcli.vision.augment import staged_image_augment


class FixedLogits(nn.Module):
    """Returns the same logits whatever the input: the loss is then known in advance."""

    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.logits = logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits


def sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def test_bce_plus_dice_matches_a_hand_computation_on_2x2():
    logits = torch.tensor([[[[0.0, 2.0], [-2.0, 0.0]]]])
    mask = torch.tensor([[[[1.0, 1.0], [0.0, 0.0]]]])
    p = [sigmoid(0.0), sigmoid(2.0), sigmoid(-2.0), sigmoid(0.0)]
    m = [1, 1, 0, 0]
    bce = -sum(t * math.log(q) + (1 - t) * math.log(1 - q) for q, t in zip(p, m, strict=True)) / 4
    inter = sum(q * t for q, t in zip(p, m, strict=True))
    dice = 1 - (2 * inter + 1) / (sum(p) + sum(m) + 1)  # smoothed by 1, as faultcli.losses.dice_loss
    hooks = SegmentationHooks(BCEDiceLoss(0.8))
    loss, figures = hooks.training_step(
        FixedLogits(logits), {"x": torch.zeros(1, 1, 2, 2), "mask": mask}, StepContext(0, 0, 0, 1, 1)
    )
    assert loss.item() == pytest.approx(bce + 0.8 * dice, rel=1e-6)
    # at threshold 0.5 the prediction is the one pixel with logit 2: Dice 2·1 / (1 + 2)
    assert figures["dice"] == pytest.approx(2 / 3)


def test_counts_dice_and_iou_against_hand_counted_masks():
    # image 0: class 0 predicts 2 pixels, 1 of them true among 2 true → Dice 0.5, IoU 1/3
    #          class 1 predicts nothing, nothing true → 1, 1 (an empty pair counts as a hit)
    # image 1: class 0 predicts 1 pixel, none true → 0, 0; class 1 exact 3 pixels → 1, 1
    pred = torch.zeros(2, 2, 3, 3, dtype=torch.bool)
    true = torch.zeros(2, 2, 3, 3)
    pred[0, 0, 0, :2] = True
    true[0, 0, 0, 1:3] = 1
    pred[1, 0, 2, 2] = True
    pred[1, 1, 1, :] = True
    true[1, 1, 1, :] = 1
    logits = torch.where(pred, 5.0, -5.0)
    counts = mask_counts(logits, true)
    assert counts["inter"].tolist() == [[1, 0], [0, 3]]
    dice, iou = mean_dice_iou(counts)
    assert dice == pytest.approx((0.5 + 1 + 0 + 1) / 4)
    assert iou == pytest.approx((1 / 3 + 1 + 0 + 1) / 4)


def test_validation_figures_over_batches_weight_the_loss_by_batch_size():
    torch.manual_seed(0)
    hooks = SegmentationHooks(BCEDiceLoss(0.8))
    batches = []
    for n in (3, 1):
        logits = torch.randn(n, 2, 4, 4)
        batches.append((logits, (torch.rand(n, 2, 4, 4) > 0.5).float()))
    chunks = [hooks.validation_step(FixedLogits(lg), {"x": torch.zeros(len(lg)), "mask": m}) for lg, m in batches]
    figures = hooks.validation_metrics(collate_outputs(chunks))
    losses = [hooks.loss_fn(lg, m).item() for lg, m in batches]
    assert figures["loss"] == pytest.approx((3 * losses[0] + losses[1]) / 4, rel=1e-6)
    all_logits = torch.cat([lg for lg, _ in batches])
    all_masks = torch.cat([m for _, m in batches])
    counts = mask_counts(all_logits, all_masks)
    assert (figures["dice"], figures["iou"]) == pytest.approx(mean_dice_iou(counts))
    assert set(figures) == {"loss", "dice", "iou"}


def test_augmentation_stage_starts_at_its_epoch():
    augment = staged_image_augment([{"start_epoch": 2, "flip": True, "prob": 1.0}])
    x = torch.arange(16.0).view(1, 1, 4, 4)
    mask = (x > 7).float()
    gen = torch.Generator().manual_seed(0)
    same_x, same_mask, _ = augment(x, mask, None, 1, gen)
    assert torch.equal(same_x, x) and torch.equal(same_mask, mask)
    moved_x, moved_mask, _ = augment(x, mask, None, 2, gen)
    assert not torch.equal(moved_x, x)
    # with prob 1 both flips apply: the image turns by 180°, and the mask with it
    assert torch.equal(moved_x, x.flip(-1).flip(-2))
    assert torch.equal(moved_mask, mask.flip(-1).flip(-2))
