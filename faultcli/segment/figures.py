"""Figures of predicted against true masks: Dice / IoU per class, on all images and on images that
contain the class, and image-level detection (is a defect there at all) per class and overall."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from faultcli.metrics import dice_iou


def _ratio(num: int, den: int) -> float:
    return float(num / den) if den else float("nan")


def _detection(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """Precision / recall of 'mask not empty' over images; ``pred`` and ``true`` are bool (N,)."""
    tp = int((pred & true).sum())
    return {"precision": _ratio(tp, int(pred.sum())), "recall": _ratio(tp, int(true.sum()))}


def _nanmean(values: np.ndarray) -> float:
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float("nan")


def per_image_scores(pred: Sequence[np.ndarray], true: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(N, K) Dice and IoU of masks that may differ in size between images (each (K, H, W))."""
    pairs = [dice_iou(p[None], t[None]) for p, t in zip(pred, true, strict=True)]
    return np.concatenate([d for d, _ in pairs]), np.concatenate([i for _, i in pairs])


def segmentation_figures(pred: Sequence[np.ndarray], true: Sequence[np.ndarray], classes: list[str]) -> dict:
    """Flat figures (``dice``, ``iou``, ``dice_pos``, ``detect_precision``, ``detect_recall``) and ``per_class``.

    ``dice`` / ``iou`` average every (image, class) pair (an empty prediction of an empty class
    scores 1); ``dice_pos`` averages only pairs whose true mask is not empty.
    """
    dice, iou = per_image_scores(pred, true)
    present = np.stack([t.reshape(t.shape[0], -1).any(axis=1) for t in true])  # (N, K)
    found = np.stack([p.reshape(p.shape[0], -1).any(axis=1) for p in pred])
    per_class = {}
    for k, name in enumerate(classes):
        det = _detection(found[:, k], present[:, k])
        per_class[name] = {
            "dice": float(dice[:, k].mean()), "iou": float(iou[:, k].mean()),
            "dice_pos": _nanmean(np.where(present[:, k], dice[:, k], np.nan)),
            "iou_pos": _nanmean(np.where(present[:, k], iou[:, k], np.nan)),
            "images_with_class": int(present[:, k].sum()),
            "detect_precision": det["precision"], "detect_recall": det["recall"],
        }
    image_det = _detection(found.any(axis=1), present.any(axis=1))
    return {
        "dice": float(dice.mean()), "iou": float(iou.mean()),
        "dice_pos": _nanmean(np.where(present, dice, np.nan)), "iou_pos": _nanmean(np.where(present, iou, np.nan)),
        "detect_precision": image_det["precision"], "detect_recall": image_det["recall"],
        "n_images": len(pred), "per_class": per_class, "per_image_dice": dice, "per_image_iou": iou,
    }
