"""Figures of predicted against true masks: Dice / IoU per class, on all images and on images that
contain the class, and image-level detection (is a defect there at all) per class and overall.

Scores are computed image by image (``image_scores``) so a large set can be streamed, then
summarised (``summarize``); ``segmentation_figures`` does both for masks already in memory.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def dice_iou_from_counts(inter, pred, true):
    """Dice and IoU from pixel counts (numpy arrays or torch tensors alike); a pair empty in both the
    prediction and the truth scores 1 (the Kaggle Severstal convention)."""
    total = pred + true
    empty = total == 0
    return (2 * inter + empty) / (total + empty), (inter + empty) / (total - inter + empty)


def image_scores(pred: np.ndarray, true: np.ndarray) -> dict[str, np.ndarray]:
    """Per class of one image (K, H, W): Dice, IoU, true mask not empty, predicted mask not empty."""
    k = pred.shape[0]
    p, t = pred.astype(bool).reshape(k, -1), true.astype(bool).reshape(k, -1)
    dice, iou = dice_iou_from_counts((p & t).sum(axis=1).astype(np.float64), p.sum(axis=1), t.sum(axis=1))
    return {
        "dice": dice,
        "iou": iou,
        "present": t.any(axis=1),
        "found": p.any(axis=1),
    }


def _ratio(num: int, den: int) -> float:
    return float(num / den) if den else float("nan")


def _detection(found: np.ndarray, present: np.ndarray) -> tuple[float, float]:
    """Precision and recall of 'mask not empty' over images (bool arrays)."""
    tp = int((found & present).sum())
    return _ratio(tp, int(found.sum())), _ratio(tp, int(present.sum()))


def _masked_mean(values: np.ndarray, keep: np.ndarray) -> float:
    return float(values[keep].mean()) if keep.any() else float("nan")


def summarize(dice: np.ndarray, iou: np.ndarray, present: np.ndarray, found: np.ndarray, classes: list[str]) -> dict:
    """Flat figures (``dice``, ``iou``, ``dice_pos``, ``iou_pos``, ``detect_precision``, ``detect_recall``)
    and ``per_class`` from (N, K) per-image arrays.

    ``dice`` / ``iou`` average every (image, class) pair (an empty prediction of an empty class
    scores 1); ``dice_pos`` averages only pairs whose true mask is not empty.
    """
    per_class = {}
    for k, name in enumerate(classes):
        precision, recall = _detection(found[:, k], present[:, k])
        per_class[name] = {
            "dice": float(dice[:, k].mean()),
            "iou": float(iou[:, k].mean()),
            "dice_pos": _masked_mean(dice[:, k], present[:, k]),
            "iou_pos": _masked_mean(iou[:, k], present[:, k]),
            "images_with_class": int(present[:, k].sum()),
            "detect_precision": precision,
            "detect_recall": recall,
        }
    precision, recall = _detection(found.any(axis=1), present.any(axis=1))
    return {
        "dice": float(dice.mean()),
        "iou": float(iou.mean()),
        "dice_pos": _masked_mean(dice, present),
        "iou_pos": _masked_mean(iou, present),
        "detect_precision": precision,
        "detect_recall": recall,
        "n_images": int(dice.shape[0]),
        "per_class": per_class,
    }


def segmentation_figures(pred: Sequence[np.ndarray], true: Sequence[np.ndarray], classes: list[str]) -> dict:
    """``summarize`` of masks in memory: ``pred`` and ``true`` are (K, H, W) per image (sizes may differ)."""
    scores = [image_scores(p, t) for p, t in zip(pred, true, strict=True)]
    return summarize(*(np.stack([s[key] for s in scores]) for key in ("dice", "iou", "present", "found")), classes)
