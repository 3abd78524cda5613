"""Classification data from vibration windows: prepared CWRU-style recordings, the vibration models'
builder arguments, the signal augmentation stages."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import torch

from faultcli.classification.data import ClassificationData
from faultcli.config.schema import Config, VibrationConfig
from faultcli.data.splits import active_fold
from faultcli.errors import ConfigError
from faultcli.progress import Reporter


def signal_augment(stages: list[Any]):
    """Progressive augmentation: the stage whose start_epoch was reached last applies to the batch."""
    from faultcli.engine.schedules import stage_at
    from faultcli.signal.augment import SignalAugment, augment_batch

    def augment(x: torch.Tensor, extra: dict, epoch: int, generator: torch.Generator):
        stage = stage_at(stages, epoch)
        return (augment_batch(x, SignalAugment.of(stage), generator) if stage else x), extra

    return augment if stages else None


# the builder arguments the [vibration] section sets
MODEL_KEYS = (
    "branches",
    "fusion",
    "tf_transform",
    "order_normalize",
    "nominal_rpm",
    "window_norm",
    "n_bands",
    "wide_bands",
    "wide_clean",
    "branch_dropout",
    "dropout",
    "feature_dim",
    "arcface_margin",
    "arcface_scale",
)


def model_settings(cfg: Config) -> dict[str, Any]:
    """The vibration model's builder arguments that come from the recipe's [vibration] section."""
    return {key: copy.deepcopy(getattr(cfg.vibration, key)) for key in MODEL_KEYS}


def check_settings(cfg: Config) -> None:
    """A [vibration] model setting that the chosen model's builder does not take would be ignored
    silently: refuse it instead."""
    from faultcli.models import unused_settings

    settings = model_settings(cfg)
    defaults = VibrationConfig()
    for key in unused_settings(cfg.model.name, settings):
        if settings[key] != getattr(defaults, key):
            used = sorted(set(settings) - set(unused_settings(cfg.model.name, settings)))
            raise ConfigError(
                f"vibration.{key} is not a setting of model {cfg.model.name!r} "
                f"(it reads {', '.join(used) or 'none of them'}); remove it from the recipe"
            )


def vibration_data(cfg: Config, reporter: Reporter, data_info: dict[str, Any] | None = None) -> ClassificationData:
    """The recipe's windows; ``data_info`` (a checkpoint's) fixes the normalisation to its training data's."""
    from faultcli.data.vibration import prepare_vibration

    data = prepare_vibration(cfg.data, reporter)
    if cfg.vibration.order_normalize and (note := data.speed_note(cfg.vibration.nominal_rpm)):
        reporter.info(note)
    fold = active_fold(cfg.data.split, cfg.data.fold)
    if data_info:
        mean, std = float(data_info["norm_mean"]), float(data_info["norm_std"])
    else:  # train-split statistics; in k-fold mode those of the fold being trained
        mean, std = data.norm(fold)
    classes = list(data.classes)
    std = std if std > 0 else 1.0

    def fetch(rows: np.ndarray) -> dict[str, Any]:
        x = (np.asarray(data.signals_for(rows), dtype=np.float32) - mean) / std
        return {
            "x": torch.from_numpy(x).unsqueeze(1),
            "y": torch.from_numpy(np.asarray(data.labels_for(rows), dtype=np.int64)),
            "extra": {"rpm": torch.from_numpy(np.asarray(data.rpm_for(rows), dtype=np.float32))},
        }

    recordings = data.recordings.set_index("recording")

    def describe(rows: np.ndarray) -> pd.DataFrame:
        rec = data.windows[rows, 0]
        return pd.DataFrame(
            {
                "file": recordings.loc[rec, "file"].to_numpy(),
                "window_start": data.windows[rows, 1],
                "group": recordings.loc[rec, "file"].to_numpy(),
            }
        )

    kwargs = {"num_classes": len(classes), "window": cfg.data.window, "sample_rate": cfg.data.sample_rate}
    kwargs.update(model_settings(cfg))
    info = {"window": cfg.data.window, "sample_rate": cfg.data.sample_rate, "norm_mean": mean, "norm_std": std}
    if cfg.data.preprocess:  # predict, export and inspect apply the same steps to new recordings
        info["preprocess"] = [dict(step) for step in cfg.data.preprocess]
    return ClassificationData(
        classes=classes,
        kind="vibration",
        dataset=data,
        fetch=fetch,
        labels=lambda rows: np.asarray(data.labels_for(rows)),
        describe=describe,
        model_name=cfg.model.name,
        model_kwargs=kwargs,
        data_info=info,
        augment=signal_augment(cfg.augment),
        hooks_kwargs={
            "arcface_weight": cfg.vibration.arcface_weight,
            "mixup_alpha": cfg.vibration.mixup_alpha,
            "mixup_prob": cfg.vibration.mixup_prob,
        },
        fold=fold,
        label_fraction=cfg.data.label_fraction,
        subset_seed=cfg.data.seed,
    )
