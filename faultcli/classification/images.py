"""Classification data from images: prepared image datasets, the timm classifier's builder arguments
(with an edge branch), batched image augmentation and the two-stage (frozen backbone → full) schedule."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from faultcli.classification.data import ClassificationData
from faultcli.config.schema import AugmentStage, Config
from faultcli.data.splits import active_fold
from faultcli.errors import CheckpointError, ConfigError
from faultcli.progress import Reporter

MISTAKES_SHOWN = 16
MODEL_NAME = "image_classifier"
# the [model] keys the image classifier reads
DEFAULT_MODEL = "multimodal_small"  # the schema's (vibration) default: a recipe that names no model


def image_augment(stages: list[AugmentStage]):
    """The recipe's stages as a classification augmentation: the edge map moves with its image."""
    from faultcli.vision.augment import check_image_stages, staged_image_augment

    check_image_stages(stages)
    staged = staged_image_augment(stages)
    if staged is None:
        return None

    def augment(x: torch.Tensor, extra: dict, epoch: int, generator: torch.Generator):
        x, _, edge = staged(x, None, extra.get("edge"), epoch, generator)
        return x, ({**extra, "edge": edge} if edge is not None else extra)

    return augment


def _norm(data: Any, fold: int, data_info: dict[str, Any] | None) -> tuple[list[float], list[float]]:
    """Per-channel (mean, std) in 0..1 units: the checkpoint's when evaluating, else the training images'
    (of ``fold`` in k-fold mode: finetune builds one kit per fold)."""
    if data_info:
        return list(data_info["norm_mean"]), list(data_info["norm_std"])
    return data.norm(fold if fold >= 0 else None)


def _check_against_checkpoint(data: Any, info: dict[str, Any]) -> None:
    size, channels = list(data.manifest["image_size"]), int(data.manifest["channels"])
    if "image_size" in info and list(info["image_size"]) != size:
        raise CheckpointError(
            f"images are {size[0]}×{size[1]} but the checkpoint was trained on "
            f"{info['image_size'][0]}×{info['image_size'][1]}; set data.image_size = "
            f"{list(info['image_size'])}"
        )
    if "channels" in info and int(info["channels"]) != channels:
        raise CheckpointError(
            f"images have {channels} channel(s) but the checkpoint expects {info['channels']}; "
            f"set data.color = {info.get('color', 'gray' if info['channels'] == 1 else 'rgb')!r}"
        )


def mistakes_grid(
    out: Path,
    images: Sequence[np.ndarray] | np.ndarray,
    files: list[str],
    probs: np.ndarray,
    y_true: np.ndarray,
    classes: list[str],
    shown: int = MISTAKES_SHOWN,
) -> Path:
    """Grid PNG of the most confident mistakes (wrong class, highest predicted probability first).

    ``images`` may be lazy (``NpyRows.view``): only the images shown are read."""
    from faultcli import plots

    pred = probs.argmax(1)
    wrong = np.flatnonzero(pred != y_true)
    wrong = wrong[np.argsort(-probs[wrong, pred[wrong]], kind="stable")][:shown]
    if len(wrong) == 0:  # keep the report's file list stable: one blank panel saying so
        return plots.image_grid_png(
            [np.zeros((8, 8), dtype=np.uint8)], ["no mistakes on this split"], out / "mistakes.png", cols=1
        )
    titles = [
        f"{Path(files[i]).name}\ntrue {classes[y_true[i]]}\npred {classes[pred[i]]} ({probs[i, pred[i]]:.2f})"
        for i in wrong
    ]
    return plots.image_grid_png(
        [np.asarray(images[i]) for i in wrong], titles, out / "mistakes.png", cols=min(4, len(wrong))
    )


def image_data(cfg: Config, reporter: Reporter, data_info: dict[str, Any] | None = None) -> ClassificationData:
    """Data, model arguments, augmentation and hooks of an image-classification recipe."""
    import faultcli.models.vision  # noqa: F401  (registers image_classifier and the edge fusions)
    from faultcli.classification.freeze import ImageClassificationHooks
    from faultcli.data.image_datasets import edge_batch, image_batch
    from faultcli.data.images import prepare_images
    from faultcli.models.vision.backbones import check_backbone_name, check_weights_source

    m, s, t = cfg.model, cfg.image, cfg.train
    if m.name not in (MODEL_NAME, DEFAULT_MODEL):
        raise ConfigError(
            f"model.name = {m.name!r} is not an image model; image-classification uses "
            f"{MODEL_NAME!r} (choose the network with image.backbone)"
        )
    check_backbone_name(s.backbone)  # before the (possibly long) data preparation
    if not data_info:  # evaluation takes every weight from the checkpoint
        check_weights_source(s.backbone, m.pretrained, m.weights_path)
    augment = image_augment(cfg.augment)
    data = prepare_images(cfg.data, cfg.task, reporter)
    if data_info:
        _check_against_checkpoint(data, data_info)
    classes = list(data.classes)
    mean, std = _norm(data, cfg.data.fold, data_info)
    channels = int(data.manifest["channels"])
    class_index = data.items["class_index"].to_numpy(dtype=np.int64)
    files = data.items["file"].astype(str).to_numpy()
    if data_info:
        use_edges = bool(data_info.get("edge_branch", False))
    else:
        use_edges = bool(s.edge_branch and data.edges is not None)
        if s.edge_branch and data.edges is None:
            reporter.info("edge branch off: data.edges = false (set it to true to add the edge branch)")
    if use_edges and data.edges is None:
        raise CheckpointError("the checkpoint's model has an edge branch; set data.edges = true")

    # batches are read with os.pread: pages of a memory map that were read would stay resident
    image_rows, edge_rows = data.rows("images"), data.rows("edges")

    def fetch(rows: np.ndarray) -> dict[str, Any]:
        extra = {"edge": edge_batch(edge_rows, rows)} if use_edges else {}
        return {
            "x": image_batch(image_rows, rows, mean, std),
            "y": torch.from_numpy(class_index[rows]),
            "extra": extra,
        }

    def describe(rows: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(
            {"file": files[rows], "window_start": np.zeros(len(rows), dtype=np.int64), "group": files[rows]}
        )

    def extra_report(out: Path, rows: np.ndarray, probs: np.ndarray, y_true: np.ndarray) -> dict[str, str]:
        path = mistakes_grid(out, image_rows.view(rows), list(files[rows]), probs, y_true, classes)
        return {"mistakes": path.name}

    kwargs = {
        "num_classes": len(classes),
        "backbone": s.backbone,
        "in_chans": channels,
        "edge_branch": use_edges,
        "edge_fusion": s.edge_fusion,
        "dropout": s.dropout,
        "feature_dim": s.feature_dim,
    }
    if use_edges and s.edge_fusion == "gate":
        kwargs["branches"] = ["backbone", "edge"]  # column names of the modality-weights plot
    info = {
        "image_size": list(data.manifest["image_size"]),
        "channels": channels,
        "norm_mean": list(mean),
        "norm_std": list(std),
        "color": data.manifest.get("color", "gray" if channels == 1 else "rgb"),
        "crops": dict(data.manifest.get("crops", {})),
        "edge_branch": use_edges,
    }
    hooks_kwargs = {
        "freeze_backbone_epochs": s.freeze_backbone_epochs,
        "unfreeze_threshold": s.unfreeze_threshold,
        "unfreeze_window": s.unfreeze_window,
        "mixup_alpha": s.mixup_alpha,
        "mixup_prob": s.mixup_prob,
        "metric": t.early_stop_metric,
        "mode": t.early_stop_mode,
    }
    return ClassificationData(
        classes=classes,
        kind="images",
        dataset=data,
        fetch=fetch,
        labels=lambda rows: class_index[rows],
        describe=describe,
        model_name=MODEL_NAME,
        model_kwargs=kwargs,
        data_info=info,
        augment=augment,
        hooks=ImageClassificationHooks,
        hooks_kwargs=hooks_kwargs,
        tta_flip=s.tta_flip,
        fold=active_fold(cfg.data.split, cfg.data.fold),
        label_fraction=cfg.data.label_fraction,
        subset_seed=cfg.data.seed,
        extra_report=extra_report,
        init_kwargs={"pretrained": m.pretrained, "weights_path": m.weights_path},
    )
