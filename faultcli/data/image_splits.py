"""Splits of a prepared image dataset: stratified train / val / test or k folds, counts per class and
split, and the train split's per-channel normalisation statistics."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, train_test_split

from faultcli.config.schema import DataConfig
from faultcli.errors import DataError

SPLIT_CODES = {"train": 0, "val": 1, "test": 2}


def split_items(strata: np.ndarray, split: str, fractions: list[float], folds: int, seed: int) -> np.ndarray:
    """Split codes per item, stratified by ``strata``: 0/1/2 (train/val/test) or, for kfold, the fold number.

    'by-file' is the same as 'stratified' here: every image is its own file.
    """
    strata = np.asarray(strata)
    rows = np.arange(len(strata))
    out = np.zeros(len(strata), dtype=np.int64)
    try:
        if split == "kfold":
            splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
            for fold, (_, test) in enumerate(splitter.split(rows, strata)):
                out[test] = fold
            return out
        train_f, val_f, test_f = fractions
        rest = rows
        if test_f > 0:
            rest, test = train_test_split(rows, test_size=test_f, stratify=strata, random_state=seed)
            out[test] = SPLIT_CODES["test"]
        if val_f > 0:
            _, val = train_test_split(
                rest, test_size=val_f / (train_f + val_f), stratify=strata[rest], random_state=seed
            )
            out[val] = SPLIT_CODES["val"]
    except ValueError as err:
        counts = pd.Series(strata).value_counts()
        raise DataError(
            f"cannot split {len(strata)} images of {len(counts)} classes stratified by class ({err}); the smallest "
            f"class ({counts.index[-1]}) has {counts.iloc[-1]} image(s): add images, change data.fractions / "
            "data.folds, or drop the class with data.classes"
        ) from None
    return out


def channel_stats(images: np.ndarray, rows: np.ndarray, chunk: int = 256) -> dict[str, list[float]]:
    """Per-channel mean and std (0..1 units) of ``images[rows]``, accumulated in chunks of float64."""
    channels = images.shape[-1]
    total, squares, count = np.zeros(channels), np.zeros(channels), 0
    for start in range(0, len(rows), chunk):
        block = images[np.sort(rows[start : start + chunk])].astype(np.float64) / 255.0
        total += block.sum(axis=(0, 1, 2))
        squares += (block**2).sum(axis=(0, 1, 2))
        count += block[..., 0].size
    if count == 0:
        return {"mean": [0.5] * channels, "std": [0.25] * channels}
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean**2, 0.0))
    return {"mean": mean.tolist(), "std": np.maximum(std, 1e-6).tolist()}


def _counts(
    labels: list[str], classes: list[str], codes: np.ndarray, split: str, folds: int
) -> dict[str, dict[str, int]]:
    names = [f"fold{k}" for k in range(folds)] if split == "kfold" else list(SPLIT_CODES)
    table: dict[str, dict[str, int]] = {name: dict.fromkeys(classes, 0) for name in names}
    for label, code in zip(labels, codes.tolist(), strict=True):
        table[names[code]][label] = table[names[code]].get(label, 0) + 1
    return table


def _check_counts(counts: dict[str, dict[str, int]], classes: list[str], required: list[str], split: str) -> None:
    for part in required:
        for name in classes:
            if counts[part].get(name, 0) == 0:
                raise DataError(
                    f"class {name!r} has no image in the {part} split (data.split = {split}); add images, "
                    "change data.fractions / data.folds, or drop the class with data.classes"
                )


def split_info(
    cfg: DataConfig, task: str, images: np.ndarray, labels: list[str], classes: list[str]
) -> tuple[np.ndarray, dict[str, Any]]:
    """Split codes and the manifest keys describing them: split, counts, norm (+ folds, fold, norm_folds)."""
    kfold = cfg.split == "kfold"
    codes = split_items(np.asarray(labels), cfg.split, cfg.fractions, cfg.folds, cfg.seed)
    counts = _counts(labels, classes, codes, cfg.split, cfg.folds)
    required = list(counts) if kfold else [s for s, f in zip(SPLIT_CODES, cfg.fractions, strict=True) if f > 0]
    info: dict[str, Any] = {"split": "kfold" if kfold else "stratified", "counts": counts}
    if task == "segmentation":
        # a class may only ever appear beside another one's mask: note it rather than stop
        absent = [f"{name} ({part})" for part in required for name in classes if not counts[part][name]]
        if absent:
            info["notes"] = [f"classes that are no image's main class in a split: {', '.join(absent)}"]
    elif not cfg.allow_missing_classes:
        _check_counts(counts, classes, required, cfg.split)
    if kfold:
        info.update(folds=cfg.folds, fold=max(cfg.fold, 0))
        info["norm_folds"] = [
            channel_stats(images, np.flatnonzero((codes != k) & (codes != (k + 1) % cfg.folds)))
            for k in range(cfg.folds)
        ]
        info["norm"] = info["norm_folds"][info["fold"]]
    else:
        info["norm"] = channel_stats(images, np.flatnonzero(codes == SPLIT_CODES["train"]))
    return codes, info
