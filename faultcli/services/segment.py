"""`faultcli segment train`: prepare image + mask data, train an smp model with the one engine, tune the
per-class threshold and minimum area on validation, then evaluate the best checkpoint on test."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from faultcli.config import Config
from faultcli.data.images import ImageDataset, prepare_images
from faultcli.data.loader import BatchLoader
from faultcli.engine.checkpoints import load_checkpoint, save_checkpoint
from faultcli.errors import ConfigError, DataError
from faultcli.progress import LogReporter, Reporter
from faultcli.runs import Run
from faultcli.segment.inference import iter_predictions, to_tensor
from faultcli.segment.postprocess import tune
from faultcli.services.common import make_engine, make_optimizer, pick_device, set_threads
from faultcli.tasks.segmentation import SegmentationHooks, stage_augment

METRICS = {"val_loss": "min", "val_dice": "max", "val_iou": "max", "train_loss": "min", "train_dice": "max"}


@dataclass
class SegmentationData:
    """A prepared segmentation dataset seen through one fold, normalised with fixed statistics."""

    dataset: ImageDataset
    fold: int | None
    mean: list[float]
    std: list[float]

    @property
    def classes(self) -> list[str]:
        return self.dataset.classes

    @property
    def image_size(self) -> tuple[int, int]:
        return tuple(int(s) for s in self.dataset.images.shape[1:3])

    @property
    def channels(self) -> int:
        return int(self.dataset.images.shape[3])

    def rows(self, split: str) -> np.ndarray:
        return self.dataset.indices(split, self.fold)

    def fetch(self, rows: np.ndarray) -> dict[str, torch.Tensor]:
        rows = np.asarray(rows)
        return {
            "x": to_tensor(self.dataset.images[rows], self.mean, self.std),
            "mask": torch.from_numpy(np.ascontiguousarray(self.dataset.masks[rows])).float(),
        }

    def loader(self, split: str, batch_size: int, train: bool = False) -> BatchLoader:
        rows = self.rows(split)
        return BatchLoader(rows, self.fetch, batch_size, shuffle=train, drop_last=train and len(rows) > batch_size)

    def images_of(self, rows: np.ndarray) -> list[np.ndarray]:
        """uint8 (H, W, C) per row, memory-mapped views: nothing is read until used."""
        return [self.dataset.images[r] for r in rows]

    def masks_of(self, rows: np.ndarray) -> list[np.ndarray]:
        return [self.dataset.masks[r] for r in rows]

    def names(self, rows: np.ndarray) -> list[str]:
        """Image ids for outputs: the file name, or the path under data.root when names repeat."""
        files = self.dataset.items["file"].to_numpy()
        short = [Path(f).name for f in files]
        unique = len(set(short)) == len(short)
        return [short[r] if unique else str(files[r]) for r in rows]

    def info(self) -> dict[str, Any]:
        """What a checkpoint must remember to read new images as training did."""
        items = self.dataset.items
        source = (float(np.median(items["height"])), float(np.median(items["width"])))
        size = self.image_size
        manifest = self.dataset.manifest
        return {
            "mean": list(self.mean),
            "std": list(self.std),
            "image_size": list(size),
            "channels": self.channels,
            "color": manifest.get("color", "gray" if self.channels == 1 else "rgb"),
            "crops": dict(manifest.get("crops", {})),
            "scale": [size[0] / source[0], size[1] / source[1]],
        }


def segmentation_data(cfg: Config, reporter: Reporter, data_info: dict[str, Any] | None = None) -> SegmentationData:
    """Prepare (or reuse) the dataset; ``data_info`` (a checkpoint's) fixes the normalisation."""
    if cfg.task != "segmentation":
        raise ConfigError(f"task = {cfg.task!r}; segmentation needs task = 'segmentation' in the recipe")
    fold = None
    if cfg.data.split == "kfold":
        if cfg.data.fold < 0:
            raise ConfigError("segmentation trains one fold at a time; add --set data.fold=<k>")
        fold = cfg.data.fold
    dataset = prepare_images(cfg.data, "segmentation", reporter)
    if dataset.masks is None:
        raise DataError("the prepared dataset has no masks; check data.mask_dir or data.rle_csv, then run again")
    if data_info is not None:
        mean, std = list(data_info["mean"]), list(data_info["std"])
    else:
        mean, std = dataset.norm(fold)
    return SegmentationData(dataset, fold, mean, std)


def check_train_config(cfg: Config) -> None:
    """Fail before any compute on settings that only make sense for classification."""
    t = cfg.train
    if t.loss != "bce_dice":
        raise ConfigError(f"train.loss = {t.loss!r} is a classification loss; set train.loss = 'bce_dice'")
    mode = METRICS.get(t.early_stop_metric)
    if mode is None:
        raise ConfigError(
            f"train.early_stop_metric = {t.early_stop_metric!r} is not a segmentation figure; "
            f"choose one of {', '.join(METRICS)}"
        )
    if mode != t.early_stop_mode:
        direction = "maximised" if mode == "max" else "minimised"
        raise ConfigError(
            f"train.early_stop_metric = {t.early_stop_metric!r} should be {direction}; "
            f"set train.early_stop_mode = {mode!r}"
        )


def model_kwargs(cfg: Config, data: SegmentationData) -> dict[str, Any]:
    """Builder arguments kept in the checkpoint (weights come from the checkpoint, not from files)."""
    return {
        "arch": cfg.model.arch,
        "encoder": cfg.model.encoder,
        "num_classes": len(data.classes),
        "in_channels": data.channels,
    }


def build_segmenter(kwargs: dict[str, Any], weights_path: str = "", pretrained: bool = False) -> torch.nn.Module:
    from faultcli.models.vision.segmentation import smp_segmenter

    return smp_segmenter(**kwargs, weights_path=weights_path, pretrained=pretrained)


def augmentation(cfg: Config):
    """The recipe's [[augment]] stages as one joint image + mask augmentation (None without stages)."""
    stages = [
        (
            s.start_epoch,
            {
                "flip": s.flip,
                "rotate": s.rotate,
                "brightness": s.brightness,
                "resized_crop": s.resized_crop,
                "prob": s.prob,
            },
        )
        for s in cfg.augment
    ]
    return stage_augment(stages) if stages else None


def predict_rows(
    model: torch.nn.Module,
    data: SegmentationData,
    rows: np.ndarray,
    cfg: Config,
    device: torch.device,
    reporter: Reporter,
) -> Iterator[np.ndarray]:
    """Probabilities (K, H, W) of the dataset's ``rows`` at the training size, one image at a time."""
    return iter_predictions(
        model,
        data.images_of(rows),
        data.mean,
        data.std,
        tile=data.image_size,
        overlap=cfg.eval.tile_overlap,
        tta_flip=cfg.eval.tta_flip,
        batch_size=min(cfg.eval.batch_size, 64),
        device=device,
        reporter=reporter,
    )


def segment_train(cfg: Config, run: Run, reporter: Reporter) -> dict[str, Any]:
    """Train, tune post-processing on val, evaluate on test; returns the summary (also summary.json)."""
    from faultcli.models.vision.segmentation import describe_weights
    from faultcli.services.segment_eval import evaluate_images

    reporter = LogReporter(reporter, run.logger)
    check_train_config(cfg)
    set_threads(cfg.train.threads)
    t = cfg.train
    device = pick_device(t.device)
    data = segmentation_data(cfg, reporter)
    split_rows = {s: data.rows(s) for s in ("train", "val", "test")}
    for split, rows in split_rows.items():
        if len(rows) == 0:
            raise DataError(f"the {split} split is empty; change data.fractions in the recipe")
    torch.manual_seed(cfg.seed)
    kwargs = model_kwargs(cfg, data)
    model = build_segmenter(kwargs, cfg.model.weights_path, cfg.model.pretrained).to(device)
    params = sum(p.numel() for p in model.parameters())
    reporter.info(
        f"model {cfg.model.arch} + {cfg.model.encoder}: {params / 1e6:.2f} M parameters, "
        f"{len(data.classes)} mask channels, {data.image_size[0]}×{data.image_size[1]} px, "
        f"{len(split_rows['train'])} train / {len(split_rows['val'])} val images, device {device}"
    )
    reporter.info(describe_weights(cfg.model.weights_path, cfg.model.pretrained))
    hooks = SegmentationHooks(t.dice_weight, augment=augmentation(cfg), seed=cfg.seed)
    train_loader = data.loader("train", t.batch_size, train=True)
    steps = min(len(train_loader), t.max_train_batches or len(train_loader))
    # the schedule: ReduceLROnPlateau on validation loss, whatever metric picks the best epoch
    optimizer, schedule = make_optimizer(cfg, model, steps, "val_loss", "min")
    extra = {
        "config": dataclasses.asdict(cfg),
        "classes": data.classes,
        "model_name": "smp_segmenter",
        "model_kwargs": kwargs,
        "data_info": data.info(),
        "task": "segmentation",
        "fold": -1 if data.fold is None else data.fold,
        "params": params,
    }
    metric = t.early_stop_metric
    engine, checkpoints = make_engine(
        cfg,
        model,
        optimizer,
        schedule,
        hooks,
        out=run.path,
        log_metrics=run.log_metrics,
        extra=extra,
        reporter=reporter,
        device=device,
        steps_per_epoch=steps,
    )
    started = time.perf_counter()
    history = engine.fit(train_loader, data.loader("val", min(cfg.eval.batch_size, 64)), t.epochs)
    train_seconds = time.perf_counter() - started

    best_path = run.path / "checkpoints" / "best.pt"
    best = load_checkpoint(best_path)
    model.load_state_dict(best["model"])
    val_rows = split_rows["val"]
    post = tune(zip(predict_rows(model, data, val_rows, cfg, device, reporter), data.masks_of(val_rows), strict=True))
    best["postprocess"] = post.to_dict()
    save_checkpoint(best_path, best)  # predict and eval use the tuned values
    reporter.info(
        "tuned on val: "
        + ", ".join(
            f"{c} threshold {th:.2f} min area {a} px (Dice {d:.3f})"
            for c, th, a, d in zip(data.classes, post.thresholds, post.min_areas, post.val_dice, strict=True)
        )
    )
    test_rows = split_rows["test"]
    test = evaluate_images(
        model,
        data.images_of(test_rows),
        data.masks_of(test_rows),
        data.names(test_rows),
        data.classes,
        post,
        run.path / "test",
        mean=data.mean,
        std=data.std,
        tile=data.image_size,
        overlap=cfg.eval.tile_overlap,
        tta_flip=cfg.eval.tta_flip,
        batch_size=min(cfg.eval.batch_size, 64),
        device=device,
        reporter=reporter,
        title=f"Segmentation on the test split ({cfg.name or run.path.name})",
    )
    epochs = pd.DataFrame(history)
    summary = {
        "test_dice": test["dice"],
        "test_iou": test["iou"],
        "test_dice_pos": test["dice_pos"],
        "test_iou_pos": test["iou_pos"],
        "test_dice_untuned": test["dice_untuned"],
        "test_detect_precision": test["detect_precision"],
        "test_detect_recall": test["detect_recall"],
        **{f"test_dice_{c}": v["dice"] for c, v in test["per_class"].items()},
        **{f"test_dice_pos_{c}": v["dice_pos"] for c, v in test["per_class"].items()},
        "thresholds": dict(zip(data.classes, post.thresholds, strict=True)),
        "min_areas": dict(zip(data.classes, post.min_areas, strict=True)),
        "val_dice_tuned": float(np.mean(post.val_dice)),
        "best_epoch": checkpoints.best_epoch + 1,
        f"best_{metric}": checkpoints.best,
        "epochs_run": engine.epoch,
        "train_seconds": train_seconds,
        "epoch_seconds": float(epochs["epoch_seconds"].mean()),
        "params": params,
        "arch": cfg.model.arch,
        "encoder": cfg.model.encoder,
        "image_size": list(data.image_size),
        "n_train": len(split_rows["train"]),
        "n_val": len(split_rows["val"]),
        "n_test": len(test_rows),
    }
    run.write_summary(summary)
    return summary
