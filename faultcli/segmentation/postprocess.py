"""Probabilities → binary masks: a threshold and a minimum component area per class, tuned on validation.

A predicted connected component smaller than the class's minimum area is dropped (as in the
Severstal post-processing). Tuning scans a grid per class and keeps the pair with the best mean
Dice over the validation images; classes are independent, so per-class tuning maximises the mean.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from faultcli.segmentation.figures import dice_iou_from_counts

THRESHOLDS = (0.5, 0.3, 0.35, 0.4, 0.45, 0.55, 0.6, 0.65, 0.7)  # 0.5 first: ties keep the default
AREA_FRACTIONS = (0.0, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02)  # of the image area


@dataclass
class PostProcess:
    """Per-class threshold on the probability and minimum component area in pixels."""

    thresholds: list[float]
    min_areas: list[int]
    val_dice: list[float] = field(default_factory=list)  # tuned per-class Dice on validation, if tuned

    @classmethod
    def default(cls, num_classes: int) -> PostProcess:
        return cls([0.5] * num_classes, [0] * num_classes)

    def to_dict(self) -> dict:
        return {"thresholds": list(self.thresholds), "min_areas": list(self.min_areas), "val_dice": list(self.val_dice)}

    @classmethod
    def from_dict(cls, data: dict) -> PostProcess:
        return cls(
            [float(t) for t in data["thresholds"]],
            [int(a) for a in data["min_areas"]],
            [float(d) for d in data.get("val_dice", [])],
        )


def remove_small(mask: np.ndarray, min_area: int) -> np.ndarray:
    """Drop 8-connected components of a binary (H, W) mask with fewer than ``min_area`` pixels."""
    mask = mask.astype(np.uint8)
    if min_area <= 0 or not mask.any():
        return mask
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_area
    keep[0] = False  # background
    return keep[labels].astype(np.uint8)


def binarize(probs: np.ndarray, post: PostProcess) -> np.ndarray:
    """(K, H, W) probabilities → uint8 (K, H, W) masks in {0, 1}."""
    return np.stack([remove_small(p > t, a) for p, t, a in zip(probs, post.thresholds, post.min_areas, strict=True)])


def _component_scores(pred: np.ndarray, true: np.ndarray, areas: Sequence[int]) -> np.ndarray:
    """Dice of one (image, class) for each minimum area, from one connected-components pass."""
    t = int(true.sum())
    if not pred.any():
        return np.full(len(areas), 1.0 if t == 0 else 0.0)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(pred.astype(np.uint8), connectivity=8)
    size = stats[1:, cv2.CC_STAT_AREA]
    inter = np.bincount(labels[true], minlength=len(stats))[1:]
    kept = size[None, :] >= np.asarray(areas)[:, None]  # (areas, components)
    dice, _ = dice_iou_from_counts((kept * inter).sum(axis=1).astype(np.float64), (kept * size).sum(axis=1), t)
    return dice


def tune(
    pairs: Iterable[tuple[np.ndarray, np.ndarray]],
    *,
    thresholds: Sequence[float] = THRESHOLDS,
    area_fractions: Sequence[float] = AREA_FRACTIONS,
) -> PostProcess:
    """Best (threshold, min area) per class for mean Dice over ``(probs, mask)`` pairs, each (K, H, W).

    Streams: only per-class score sums are kept, so a large validation set never sits in memory.
    Minimum areas are fractions of the first image's area.
    """
    sums, areas, count = None, [], 0
    for probs, mask in pairs:
        if sums is None:
            areas = sorted({int(round(f * probs.shape[1] * probs.shape[2])) for f in area_fractions})
            sums = np.zeros((probs.shape[0], len(thresholds), len(areas)))
        truth = mask.astype(bool)
        for k in range(probs.shape[0]):
            for i, t in enumerate(thresholds):
                sums[k, i] += _component_scores(probs[k] > t, truth[k], areas)
        count += 1
    if sums is None:
        raise ValueError("tuning needs at least one validation image")
    scores = sums / count
    num_classes = scores.shape[0]
    best = PostProcess([0.5] * num_classes, [0] * num_classes, [-1.0] * num_classes)
    for k in range(num_classes):
        for i, t in enumerate(thresholds):  # 0.5 first: later thresholds must do strictly better
            j = int(np.argmax(scores[k, i]))  # first maximum: the smallest area among equals
            if scores[k, i, j] > best.val_dice[k] + 1e-9:
                best.thresholds[k], best.min_areas[k], best.val_dice[k] = float(t), areas[j], float(scores[k, i, j])
    return best


def postprocess_of(state: dict) -> PostProcess:
    """The tuned thresholds / min areas of a checkpoint (0.5 / none if it was never tuned, e.g. last.pt)."""
    data = state.get("postprocess")
    return PostProcess.from_dict(data) if data else PostProcess.default(len(state["classes"]))
