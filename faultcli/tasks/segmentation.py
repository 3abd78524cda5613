"""Segmentation task: image + mask data, an smp model, BCE + Dice, per-class threshold and minimum area
tuned on validation, and the segmentation report (Dice on images with the class, the class-agnostic
defect mask, detection, saliency measures, masks)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch

from faultcli.config import Config
from faultcli.config.schema import ModelConfig
from faultcli.errors import CheckpointError, ConfigError, DataError
from faultcli.progress import Reporter
from faultcli.registry import register
from faultcli.segmentation.data import SegmentationData
from faultcli.segmentation.hooks import SegmentationHooks
from faultcli.tasks.base import ModelSpec, Task, check_model_keys

MODEL_NAME = "smp_segmenter"


class SegmentationTask(Task):
    name = "segmentation"
    hooks = SegmentationHooks
    # ReduceLROnPlateau on validation loss, whatever metric picks the best epoch
    plateau_metric = ("val_loss", "min")
    test_title = "Segmentation on the {split} split ({name})"

    def check(self, cfg: Config) -> None:
        from faultcli.losses import loss_names
        from faultcli.vision.augment import check_image_stages

        if cfg.train.loss not in loss_names("masks"):
            first, *rest = loss_names("masks")
            others = f" (or {', '.join(rest)})" if rest else ""
            raise ConfigError(
                f"train.loss = {cfg.train.loss!r} is a classification loss; set train.loss = {first!r}{others}"
            )
        check_image_stages(cfg.augment)
        check_model_keys(cfg, self.model_keys(cfg), self.name)
        if cfg.model.name not in (MODEL_NAME, ModelConfig().name):
            raise ConfigError(
                f"model.name = {cfg.model.name!r}: segmentation trains {MODEL_NAME!r}; "
                "choose the network with segmentation.arch and segmentation.encoder"
            )

    def model_keys(self, cfg: Config) -> set[str]:
        return {"name", "weights_path", "pretrained"}

    def build_data(self, cfg: Config, reporter: Reporter, data_info: dict[str, Any] | None = None) -> SegmentationData:
        from faultcli.segmentation.data import segmentation_data

        return segmentation_data(cfg, reporter, data_info)

    def data_info(self, data: SegmentationData) -> dict[str, Any]:
        return data.info()

    def model_spec(self, cfg: Config, data: SegmentationData) -> ModelSpec:
        kwargs = {
            "arch": cfg.segmentation.arch,
            "encoder": cfg.segmentation.encoder,
            "num_classes": len(data.classes),
            "in_channels": data.channels,
        }
        return ModelSpec(
            MODEL_NAME, kwargs, {"weights_path": cfg.model.weights_path, "pretrained": cfg.model.pretrained}
        )

    def describe(self, cfg: Config, data: SegmentationData, spec: ModelSpec, params: int, device) -> str:
        from faultcli.models.vision.segmentation import describe_weights

        return (
            f"model {cfg.segmentation.arch} + {cfg.segmentation.encoder}: {params / 1e6:.2f} M parameters, "
            f"{len(data.classes)} mask channels, {data.image_size[0]}×{data.image_size[1]} px, "
            f"{len(data.rows('train'))} train / {len(data.rows('val'))} val images, device {device}; "
            + describe_weights(cfg.model.weights_path, cfg.model.pretrained)
        )

    def build_hooks(self, cfg: Config, data: SegmentationData, device: torch.device) -> SegmentationHooks:
        from faultcli.losses import create_loss
        from faultcli.vision.augment import staged_image_augment

        staged = staged_image_augment(cfg.augment)

        def augment(x, mask, epoch, generator):
            x, mask, _ = staged(x, mask, None, epoch, generator)
            return x, mask

        loss = create_loss(cfg.train.loss, "masks", dice_weight=cfg.segmentation.dice_weight)
        return SegmentationHooks(loss, augment=augment if staged else None, seed=cfg.seed)

    def loaders(self, cfg: Config, data: SegmentationData) -> tuple[Any, dict[str, Any]]:
        return data.loader("train", cfg.train.batch_size, train=True), {"": data.loader("val", eval_batch(cfg))}

    def post_fit(self, cfg: Config, model, data: SegmentationData, device, reporter: Reporter) -> dict[str, Any]:
        from faultcli.segmentation.data import predict_rows
        from faultcli.segmentation.postprocess import tune

        rows = data.rows("val")
        post = tune(zip(predict_rows(model, data, rows, cfg, device, reporter), data.masks_of(rows), strict=True))
        reporter.info(
            "tuned on val: "
            + ", ".join(
                f"{c} threshold {th:.2f} min area {a} px (Dice over all val images {d:.3f})"
                for c, th, a, d in zip(data.classes, post.thresholds, post.min_areas, post.val_dice, strict=True)
            )
        )
        return {"postprocess": post.to_dict()}

    def evaluate(
        self, cfg, model, data: SegmentationData, split, out: Path, fitted, device, reporter, title, history=None
    ):
        from faultcli.segmentation.postprocess import postprocess_of
        from faultcli.segmentation.report import evaluate_images

        rows = data.rows(split)
        if len(rows) == 0:
            raise DataError(f"the {split} split of {cfg.data.root} is empty; use --split all for a new folder")
        return evaluate_images(
            model,
            data.images_of(rows),
            data.masks_of(rows),
            data.names(rows),
            data.classes,
            postprocess_of({**fitted, "classes": data.classes}),
            out,
            mean=data.mean,
            std=data.std,
            tile=data.image_size,
            overlap=cfg.segmentation.tile_overlap,
            tta_flip=cfg.segmentation.tta_flip,
            batch_size=eval_batch(cfg),
            device=device,
            reporter=reporter,
            title=title,
            history=history,
        )

    def summary(self, cfg: Config, data: SegmentationData, test: dict[str, Any], fitted: dict[str, Any]) -> dict:
        """Test figures in the report's reading order (``headline`` lists it: summary.json sorts its keys),
        per class on the images that contain it, then the tuned post-processing."""
        from faultcli.segmentation.report import FIGURES

        post = fitted["postprocess"]
        classes = list(test["per_class"])
        headline = [f"test_{k}" for k in FIGURES]
        return {
            **{f"test_{k}": test[k] for k in FIGURES},
            **{f"test_{k}": test[k] for k in ("n_defect_images", "empty_pairs", "dice", "iou")},
            **{f"test_dice_pos_{c}": v["dice_pos"] for c, v in test["per_class"].items()},
            **{f"test_iou_pos_{c}": v["iou_pos"] for c, v in test["per_class"].items()},
            **{f"test_dice_{c}": v["dice_all_images"] for c, v in test["per_class"].items()},  # all images
            "headline": headline,
            "thresholds": dict(zip(classes, post["thresholds"], strict=True)),
            "min_areas": dict(zip(classes, post["min_areas"], strict=True)),
            "val_dice_tuned": float(np.mean(post["val_dice"])),
            "arch": cfg.segmentation.arch,
            "encoder": cfg.segmentation.encoder,
            "image_size": list(data.image_size),
        }

    def evaluate_checkpoints(self, states, cfg, split, out: Path, reporter, device) -> dict[str, Any]:
        from faultcli.services.common import load_trained_model

        if len(states) > 1:
            raise CheckpointError("segmentation checkpoints are evaluated one at a time; pass one --checkpoint")
        state = states[0]
        info = state["data_info"]
        if split == "all":  # every image of data.root is scored: no split to make, however few the images
            data_cfg = dataclasses.replace(cfg.data, split="stratified", fractions=[1.0, 0.0, 0.0], fold=-1)
            cfg = dataclasses.replace(cfg, data=data_cfg)
        data = self.build_data(cfg, reporter, info)
        if list(data.classes) != list(state["classes"]):
            raise CheckpointError(
                f"data classes {data.classes} differ from the checkpoint's {state['classes']}; "
                "evaluate on masks of the checkpoint's classes (data.classes / data.label_map)"
            )
        if data.channels != int(info["channels"]):
            raise CheckpointError(
                f"the data has {data.channels} channel(s) but the checkpoint takes {info['channels']}; "
                f"set data.color = {info['color']!r}"
            )
        model = load_trained_model(state, device)
        title = f"Segmentation of {cfg.name or 'checkpoint'} on {split}"
        return self.evaluate(cfg, model, data, split, out, state, device, reporter, title, state.get("history"))


def eval_batch(cfg: Config) -> int:
    """Images per inference batch: the recipe's, at most 64 (whole images are large)."""
    return min(cfg.eval.batch_size, 64)


@register("task", "segmentation")
def segmentation() -> SegmentationTask:
    """Defect masks of surface images (segmentation-models-pytorch encoders and decoders)."""
    return SegmentationTask()
