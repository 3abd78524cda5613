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

    def rows(self, split: str) -> np.ndarray:
        return self.dataset.indices(split, self.fold)

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
