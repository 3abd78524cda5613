"""Figures of predicted against true masks, in the order a user should read them:

1. per class, Dice / IoU over the images that contain the class (``dice_pos``, ``iou_pos``);
2. class-agnostic defect Dice / IoU: the union of the predicted channels against the union of the
   true masks, per image, averaged over the images with a defect (``defect_dice``) and over all images
   (``defect_dice_all_images``, an image without defect predicted empty scores 1);
3. image-level detection (is any defect there at all) precision / recall;
4. Dice / IoU over every (image, class) pair (``dice_all_images``, the Kaggle Severstal convention: a
   channel empty in truth and prediction scores 1). On sets where each image holds one class of several,
   most pairs are empty channels, so this figure is mostly empty-channel agreement.

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


# flat figures in reading order (``summarize``); ``dice`` / ``iou`` repeat the all-images figures
# under their former names for older readers
HEADLINE = (
    "dice_pos",
    "iou_pos",
    "dice_pos_class_mean",
    "iou_pos_class_mean",
    "defect_dice",
    "defect_iou",
    "defect_dice_all_images",
    "defect_iou_all_images",
    "detect_precision",
    "detect_recall",
    "dice_all_images",
    "iou_all_images",
)
SCORE_KEYS = ("dice", "iou", "present", "found", "defect_dice", "defect_iou")


def image_scores(pred: np.ndarray, true: np.ndarray) -> dict[str, np.ndarray]:
    """Scores of one image's (K, H, W) masks: per class Dice, IoU, true mask not empty, predicted mask
    not empty; and the Dice / IoU of the union of the channels (``defect_dice``, ``defect_iou``)."""
    k = pred.shape[0]
    p, t = pred.astype(bool).reshape(k, -1), true.astype(bool).reshape(k, -1)
    dice, iou = dice_iou_from_counts((p & t).sum(axis=1).astype(np.float64), p.sum(axis=1), t.sum(axis=1))
    pu, tu = p.any(axis=0), t.any(axis=0)
    defect_dice, defect_iou = dice_iou_from_counts(float((pu & tu).sum()), int(pu.sum()), int(tu.sum()))
    return {
        "dice": dice,
        "iou": iou,
        "present": t.any(axis=1),
        "found": p.any(axis=1),
        "defect_dice": np.float64(defect_dice),
        "defect_iou": np.float64(defect_iou),
    }


def _ratio(num: int, den: int) -> float:
    return float(num / den) if den else float("nan")


def _detection(found: np.ndarray, present: np.ndarray) -> tuple[float, float]:
    """Precision and recall of 'mask not empty' over images (bool arrays)."""
    tp = int((found & present).sum())
    return _ratio(tp, int(found.sum())), _ratio(tp, int(present.sum()))


def _masked_mean(values: np.ndarray, keep: np.ndarray) -> float:
    return float(values[keep].mean()) if keep.any() else float("nan")


def _class_mean(per_class: dict, key: str) -> float:
    values = [r[key] for r in per_class.values() if r["images_with_class"]]
    return float(np.mean(values)) if values else float("nan")


def summarize(scores: dict[str, np.ndarray], classes: list[str]) -> dict:
    """Flat figures (``HEADLINE`` order, then ``dice`` / ``iou``, counts) and ``per_class`` from the
    stacked ``image_scores`` of N images: (N, K) per class, (N,) for the defect union.

    ``dice_pos`` / ``iou_pos`` average the (image, class) pairs whose true mask is not empty;
    ``*_class_mean`` average the per-class figures over the classes present.
    """
    dice, iou, present, found = (scores[k] for k in ("dice", "iou", "present", "found"))
    per_class = {}
    for k, name in enumerate(classes):
        precision, recall = _detection(found[:, k], present[:, k])
        per_class[name] = {
            "dice_pos": _masked_mean(dice[:, k], present[:, k]),
            "iou_pos": _masked_mean(iou[:, k], present[:, k]),
            "images_with_class": int(present[:, k].sum()),
            "detect_precision": precision,
            "detect_recall": recall,
            "dice_all_images": float(dice[:, k].mean()),
            "iou_all_images": float(iou[:, k].mean()),
            "dice": float(dice[:, k].mean()),
            "iou": float(iou[:, k].mean()),
        }
    defect = present.any(axis=1)
    precision, recall = _detection(found.any(axis=1), defect)
    flat = {
        "dice_pos": _masked_mean(dice, present),
        "iou_pos": _masked_mean(iou, present),
        "dice_pos_class_mean": _class_mean(per_class, "dice_pos"),
        "iou_pos_class_mean": _class_mean(per_class, "iou_pos"),
        "defect_dice": _masked_mean(scores["defect_dice"], defect),
        "defect_iou": _masked_mean(scores["defect_iou"], defect),
        "defect_dice_all_images": float(scores["defect_dice"].mean()),
        "defect_iou_all_images": float(scores["defect_iou"].mean()),
        "detect_precision": precision,
        "detect_recall": recall,
        "dice_all_images": float(dice.mean()),
        "iou_all_images": float(iou.mean()),
    }
    return {
        **flat,
        "dice": flat["dice_all_images"],
        "iou": flat["iou_all_images"],
        "n_images": int(dice.shape[0]),
        "n_defect_images": int(defect.sum()),
        # share of (image, class) pairs empty in truth: how much of the all-images Dice is empty channels
        "empty_pairs": float((~present).mean()),
        "per_class": per_class,
    }


def stack_scores(scores: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Per-image ``image_scores`` stacked into (N, K) and (N,) arrays."""
    return {key: np.stack([s[key] for s in scores]) for key in SCORE_KEYS}


def segmentation_figures(pred: Sequence[np.ndarray], true: Sequence[np.ndarray], classes: list[str]) -> dict:
    """``summarize`` of masks in memory: ``pred`` and ``true`` are (K, H, W) per image (sizes may differ)."""
    return summarize(stack_scores([image_scores(p, t) for p, t in zip(pred, true, strict=True)]), classes)
