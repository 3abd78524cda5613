"""What the classification task needs from one kind of data (vibration windows, images): rows per
split, batches, labels, report columns, the model's builder arguments and the augmentation. The
builders in ``classification/vibration.py`` and ``classification/images.py`` make one from a recipe."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from faultcli.classification.hooks import Augment, ClassificationHooks
from faultcli.data.loader import BatchLoader


@dataclass
class ClassificationData:
    """Data, model recipe and policies of one classification task."""

    classes: list[str]
    kind: str  # "vibration" | "images"
    dataset: Any  # VibrationDataset | ImageDataset
    fetch: Callable[[np.ndarray], dict[str, Any]]  # rows → batch dict (x, y, extra)
    labels: Callable[[np.ndarray], np.ndarray]  # rows → class indices
    describe: Callable[[np.ndarray], pd.DataFrame]  # rows → file / position / group columns for reports
    model_name: str
    model_kwargs: dict[str, Any]
    data_info: dict[str, Any] = field(default_factory=dict)  # what a checkpoint must remember of the data
    augment: Augment | None = None
    hooks: type[ClassificationHooks] = ClassificationHooks
    hooks_kwargs: dict[str, Any] = field(default_factory=dict)  # the hooks' data-kind-specific arguments
    tta_flip: bool = False  # average each prediction with its flipped input's (images)
    # kind-specific extra report files: (out_dir, rows, probs, y_true) -> {name: path}
    extra_report: Callable[..., dict[str, str]] | None = None
    # builder arguments used only to initialise a fresh model (e.g. pretrained weights), never saved:
    # a checkpoint already holds every weight, so eval must not need the weights file or the hub
    init_kwargs: dict[str, Any] = field(default_factory=dict)
    fold: int | None = None  # the k-fold fold these data are seen through (None: the recipe's split)
    label_fraction: float = 1.0  # share of the train split's labelled samples training uses
    subset_seed: int = 0  # the same subset for every model and method trained on the recipe

    def rows(self, split: str) -> np.ndarray:
        rows = self.dataset.indices(split, self.fold)
        if split == "train" and self.label_fraction < 1.0:
            rows = labelled_subset(rows, self.labels(rows), self.classes, self.label_fraction, self.subset_seed)
        return rows

    def loader(self, split: str, batch_size: int, *, train: bool = False, balanced: bool = False) -> BatchLoader:
        rows = self.rows(split)
        return BatchLoader(
            rows,
            self.fetch,
            batch_size,
            shuffle=train,
            labels=self.labels(rows),
            balanced=balanced and train,
            drop_last=train and len(rows) > batch_size,
        )


def labelled_subset(rows: np.ndarray, labels: np.ndarray, classes: list[str], fraction: float, seed: int) -> np.ndarray:
    """``fraction`` of ``rows`` drawn per class (stratified), in their order; a class left without a sample
    is an error, not a silently smaller task."""
    from faultcli.errors import DataError

    rng = np.random.default_rng(seed)
    keep = []
    for c in np.unique(labels):
        members = rows[labels == c]
        n = int(round(fraction * len(members)))
        if n == 0:
            raise DataError(
                f"data.label_fraction = {fraction} leaves class {classes[c]!r} ({len(members)} train samples) "
                "with none; raise the fraction"
            )
        keep.append(rng.choice(members, n, replace=False))
    return np.sort(np.concatenate(keep))
