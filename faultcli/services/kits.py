"""A task kit: everything the shared finetune / eval services need from one kind of data.

Each task (vibration windows, images) registers a builder ``@register("kit", task)`` that turns the
config into data loaders, a model spec and an augmentation; the services stay kind-agnostic.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from torch import nn

from faultcli.config.schema import Config
from faultcli.data.loader import BatchLoader
from faultcli.progress import Reporter
from faultcli.registry import lookup
from faultcli.tasks.classification import Augment, ClassificationHooks


@dataclass
class TaskKit:
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
    make_hooks: Callable[..., ClassificationHooks] | None = None  # default: ClassificationHooks
    # kind-specific extra report files: (out_dir, rows, probs, y_true) -> {name: path}
    extra_report: Callable[..., dict[str, str]] | None = None
    # builder arguments used only to initialise a fresh model (e.g. pretrained weights), never saved:
    # a checkpoint already holds every weight, so eval must not need the weights file or the hub
    init_kwargs: dict[str, Any] = field(default_factory=dict)

    def rows(self, split: str, fold: int | None = None) -> np.ndarray:
        return self.dataset.indices(split, fold)

    def loader(
        self, split: str, batch_size: int, *, fold: int | None = None, train: bool = False, balanced: bool = False
    ) -> BatchLoader:
        rows = self.rows(split, fold)
        return BatchLoader(
            rows,
            self.fetch,
            batch_size,
            shuffle=train,
            labels=self.labels(rows),
            balanced=balanced and train,
            drop_last=train and len(rows) > batch_size,
        )


def build_kit(cfg: Config, reporter: Reporter, data_info: dict[str, Any] | None = None) -> TaskKit:
    """The kit for ``cfg.task`` (registered builders live beside this module).

    ``data_info`` is a checkpoint's record of its training data: evaluation normalises new data with
    the checkpoint's train statistics, never with statistics of the data being evaluated.
    """
    import importlib

    # kits register on import; a kind whose module is absent simply is not available
    for module in ("vibration_kit", "image_kit"):
        try:
            importlib.import_module(f"faultcli.services.{module}")
        except ModuleNotFoundError as err:
            if err.name != f"faultcli.services.{module}":
                raise
    return lookup("kit", cfg.task)(cfg, reporter, data_info)


def build_model(name: str, kwargs: dict[str, Any]) -> nn.Module:
    """Create a registered model, passing only the arguments its builder takes."""
    import faultcli.models  # noqa: F401  (registration)

    builder = lookup("model", name)
    params = inspect.signature(builder).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return builder(**kwargs)
    return builder(**{k: v for k, v in kwargs.items() if k in params})
