"""Task kit for vibration windows: prepared CWRU-style data, the multimodal / WDCNN models, signal augmentation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from faultcli.config.schema import Config
from faultcli.progress import Reporter
from faultcli.registry import register
from faultcli.services.kits import TaskKit


def signal_augment(stages: list[Any]):
    """Progressive augmentation: the stage whose start_epoch was reached last applies to the batch."""
    from faultcli.signal.augment import SignalAugment, augment_batch, stage_for_epoch

    def augment(x: torch.Tensor, extra: dict, epoch: int, generator: torch.Generator):
        stage = stage_for_epoch(stages, epoch)
        return (augment_batch(x, SignalAugment.of(stage), generator) if stage else x), extra

    return augment if stages else None


@register("kit", "vibration-classification")
def vibration_kit(cfg: Config, reporter: Reporter, data_info: dict[str, Any] | None = None) -> TaskKit:
    from faultcli.data.vibration import prepare_vibration

    data = prepare_vibration(cfg.data, reporter)
    if data_info:
        mean, std = float(data_info["norm_mean"]), float(data_info["norm_std"])
    else:  # train-split statistics; in k-fold mode those of the fold being trained
        mean, std = data.norm(cfg.data.fold if cfg.data.split == "kfold" and cfg.data.fold >= 0 else None)
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

    m = cfg.model
    kwargs = {
        "num_classes": len(classes),
        "window": cfg.data.window,
        "sample_rate": cfg.data.sample_rate,
        "branches": list(m.branches),
        "fusion": m.fusion,
        "tf_transform": m.tf_transform,
        "order_normalize": m.order_normalize,
        "nominal_rpm": m.nominal_rpm,
        "window_norm": m.window_norm,
        "n_bands": m.n_bands,
        "wide_bands": m.wide_bands,
        "wide_clean": m.wide_clean,
        "branch_dropout": m.branch_dropout,
        "dropout": m.dropout,
        "feature_dim": m.feature_dim,
        "arcface_margin": m.arcface_margin,
        "arcface_scale": m.arcface_scale,
    }
    info = {"window": cfg.data.window, "sample_rate": cfg.data.sample_rate, "norm_mean": mean, "norm_std": std}
    return TaskKit(
        classes=classes,
        kind="vibration",
        dataset=data,
        fetch=fetch,
        labels=lambda rows: np.asarray(data.labels_for(rows)),
        describe=describe,
        model_name=m.name,
        model_kwargs=kwargs,
        data_info=info,
        augment=signal_augment(cfg.augment),
    )
