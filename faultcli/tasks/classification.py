"""Classification tasks (vibration windows, images): data from a builder per kind, focal / CE loss with
ArcFace and mixup, a softmax temperature fitted on validation, the classification report, ensembles."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from faultcli.adapt import PAIRED
from faultcli.classification.data import ClassificationData
from faultcli.config import Config
from faultcli.engine.hooks import TaskHooks
from faultcli.errors import CheckpointError, ConfigError, DataError
from faultcli.progress import Reporter
from faultcli.registry import register
from faultcli.tasks.base import ModelSpec, Task, check_model_keys

SUMMARY_FIGURES = ("accuracy", "macro_f1", "ece", "macro_auroc")
READING_NOTES = ("skipped", "rate_sources", "rate_warnings")


class ClassificationTask(Task):
    """One class per sample; ``build`` turns a recipe into ``ClassificationData`` of one data kind."""

    def __init__(
        self,
        name: str,
        build: Callable[..., ClassificationData],
        hooks: type[TaskHooks],
        model_keys: set[str],
        check_settings: Callable[[Config], None] | None = None,
    ) -> None:
        self.name, self.build, self.hooks = name, build, hooks
        self._model_keys, self._check_settings = model_keys, check_settings

    def model_keys(self, cfg: Config) -> set[str]:
        return self._model_keys

    def check(self, cfg: Config) -> None:
        from faultcli.adapt.target import check_adapt
        from faultcli.losses import loss_names

        check_model_keys(cfg, self.model_keys(cfg), self.name)
        check_adapt(cfg, self.name)
        if self._check_settings:
            self._check_settings(cfg)
        if cfg.train.loss not in loss_names("labels"):
            raise ConfigError(
                f"train.loss = {cfg.train.loss!r} is not a classification loss; "
                f"choose one of {', '.join(loss_names('labels'))}"
            )

    def build_data(self, cfg: Config, reporter: Reporter, data_info: dict[str, Any] | None = None) -> Any:
        data = self.build(cfg, reporter, data_info)
        if data_info is None and cfg.data.label_fraction < 1.0 and cfg.train.early_stop_metric != "epoch":
            # a few-label user may not hold the labels that choose the checkpoint: say which ones do
            reporter.info(
                f"data.label_fraction = {cfg.data.label_fraction:g} trains on part of the train labels; the "
                f"checkpoint is chosen on every label of the val split ({cfg.train.early_stop_metric}); to keep the "
                "last epoch instead, set train.early_stop_metric = 'epoch', early_stop_mode = 'max', patience = 0"
            )
        if cfg.adapt.method == "none" or data_info is not None:  # evaluating a trained model: no target
            return data
        from faultcli.adapt.target import with_target

        return with_target(cfg, data, reporter)

    def data_info(self, data: ClassificationData) -> dict[str, Any]:
        return data.data_info

    def model_spec(self, cfg: Config, data: ClassificationData) -> ModelSpec:
        return ModelSpec(data.model_name, data.model_kwargs, data.init_kwargs)

    def describe(self, cfg: Config, data: ClassificationData, spec: ModelSpec, params: int, device) -> str:
        return (
            f"model {spec.name}: {params / 1e6:.2f} M parameters, {len(data.classes)} classes, "
            f"{len(data.rows('train'))} train / {len(data.rows('val'))} val samples, device {device}"
        )

    def build_hooks(self, cfg: Config, data: ClassificationData, device: torch.device) -> TaskHooks:
        from faultcli.losses import create_loss

        t = cfg.train
        counts = np.bincount(data.labels(data.rows("train")), minlength=len(data.classes))
        loss = create_loss(
            t.loss,
            "labels",
            class_counts=counts,
            gamma=t.focal_gamma,
            class_balance_beta=t.class_balance_beta,
            label_smoothing=t.label_smoothing,
        )
        hooks = data.hooks(
            loss.to(device),
            len(data.classes),
            augment=data.augment,
            seed=cfg.seed,
            **data.hooks_kwargs,
        )
        if t.freeze_epochs:  # linear probe first, then everything at lr × train.lr_scale
            from faultcli.pretrain.freeze import EncoderFreeze

            hooks = EncoderFreeze(hooks, t.freeze_epochs)
        if cfg.adapt.method == "none":
            return hooks
        from faultcli.adapt.target import check_model_adapts
        from faultcli.models import create_model

        probe = create_model(data.model_name, **data.model_kwargs)
        check_model_adapts(probe, cfg, data.model_name)
        if cfg.adapt.method not in PAIRED:
            return hooks
        from faultcli.adapt.hooks import AdaptHooks

        return AdaptHooks(hooks, cfg.adapt.method, cfg.adapt.weight, probe.num_features)

    def loaders(self, cfg: Config, data: ClassificationData) -> tuple[Any, dict[str, Any]]:
        t = cfg.train
        train = data.loader("train", t.batch_size, train=True, balanced=t.balanced_sampler)
        if cfg.adapt.method in PAIRED:  # (source batch, target batch) steps; one epoch = one pass over the source
            from faultcli.data.paired import PairedLoader

            train = PairedLoader(train, data.target.loader(t.batch_size, train=True))
        return train, {"": data.loader("val", cfg.eval.batch_size)}

    def post_fit(self, cfg: Config, model, data: ClassificationData, device, reporter: Reporter) -> dict[str, Any]:
        from faultcli.classification.report import fit_val_temperature

        fitted: dict[str, Any] = {}
        if cfg.eval.calibrate:  # on source validation, before AdaBN turns the statistics to the target's
            fitted["temperature"] = fit_val_temperature(model, data, data.rows("val"), cfg, device, reporter)
            reporter.info(f"softmax temperature {fitted['temperature']:.3f}, fitted on the validation split")
        if cfg.adapt.method == "adabn" and getattr(data, "target", None) is not None:
            from faultcli.adapt.adabn import adabn_step

            fitted.update(adabn_step(model, data.target, cfg.eval.batch_size, device, reporter))
        return fitted

    def evaluate(self, cfg, model, data, split, out: Path, fitted, device, reporter, title, history=None) -> dict:
        from faultcli.classification.report import predict_rows, write_report

        rows = data.rows(split)
        if len(rows) == 0:
            raise DataError(f"the {split} split is empty; nothing to evaluate — choose another --split")
        pred = predict_rows(model, data, rows, cfg.eval.batch_size, device, reporter, data.tta_flip)
        detail = write_report(out, data, rows, pred, cfg, title, float(fitted.get("temperature", 1.0)), history)
        return {**detail, **self.report_extras(cfg, model, data, pred, out)}

    def report_extras(self, cfg: Config, model, data: ClassificationData, pred: dict, out: Path) -> dict[str, Any]:
        """Figures and files a kind of classifier adds to the report of one model's predictions ``pred``."""
        return {}

    def summary(self, cfg: Config, data: ClassificationData, test: dict[str, Any], fitted: dict[str, Any]) -> dict:
        return {
            **{f"test_{k}": test[k] for k in SUMMARY_FIGURES},
            "temperature": float(fitted.get("temperature", 1.0)),
            **{f"test_{k}": v for k, v in test.items() if k.startswith("recording_") or k.startswith("min_")},
        }

    def evaluate_checkpoints(self, states, cfg, split, out: Path, reporter, device) -> dict[str, Any]:
        """One checkpoint, or an ensemble: the members' probabilities averaged, each under its own
        temperature and its own training statistics; same classes, window and sample rate."""
        from faultcli.classification.report import average_members, predict_rows, write_report
        from faultcli.services.common import load_trained_model

        datas: dict[str, ClassificationData] = {}  # members trained on the same data share one
        preds, rows = [], None
        for number, member in enumerate(states, 1):
            info = member.get("data_info") or {}
            key = repr(sorted(info.items()))
            data = datas[key] = datas.get(key) or self.build_data(cfg, reporter, info or None)
            check_compatible(member, data, cfg)
            member_rows = data.rows(split)
            if rows is None:
                rows = member_rows
                if len(rows) == 0:
                    raise DataError(f"the {split} split of {cfg.data.root} is empty; use --split all for a new folder")
            elif not np.array_equal(rows, member_rows):
                raise CheckpointError(
                    f"ensemble member {number} sees another {split} split (another k-fold fold?); "
                    "ensemble checkpoints trained on the same split"
                )
            model = load_trained_model(member, device)
            preds.append(predict_rows(model, data, rows, cfg.eval.batch_size, device, reporter, data.tta_flip))
        temperatures = [float(m.get("temperature", 1.0)) for m in states]
        title = f"Evaluation of {cfg.name or 'checkpoint'} on {split}"
        if len(states) == 1:
            detail = write_report(out, data, rows, preds[0], cfg, title, temperatures[0], states[0].get("history"))
            detail.update(self.report_extras(cfg, model, data, preds[0], out))
        else:  # the members' temperatures are applied before averaging
            title += f" (ensemble of {len(states)} checkpoints)"
            detail = write_report(out, data, rows, average_members(preds, temperatures), cfg, title)
        # what reading the folder decided: files skipped (with why), how rates were found, rate warnings
        manifest = getattr(data.dataset, "manifest", {})
        return {**detail, **{k: manifest[k] for k in READING_NOTES if k in manifest}}


def check_compatible(state: dict[str, Any], data: ClassificationData, cfg: Config) -> None:
    """The data must speak the checkpoint's language: same class list, window and sample rate."""
    if list(data.classes) != list(state["classes"]):
        raise CheckpointError(
            f"data classes {data.classes} differ from the checkpoint's {state['classes']}; "
            "evaluate on data labelled with the checkpoint's classes (data.label_map)"
        )
    info = state.get("data_info", {})
    for key in ("window", "sample_rate"):
        if key in info and getattr(cfg.data, key) != info[key]:
            raise CheckpointError(
                f"data.{key} = {getattr(cfg.data, key)} differs from the checkpoint's "
                f"{info[key]}; drop the --set data.{key} override"
            )


@register("task", "vibration-classification")
def vibration_classification() -> ClassificationTask:
    """Fault classes of vibration windows (CWRU-style recordings; multimodal, WDCNN, band_linear)."""
    from faultcli.classification.hooks import ClassificationHooks
    from faultcli.classification.vibration import check_settings, vibration_data

    return ClassificationTask("vibration-classification", vibration_data, ClassificationHooks, {"name"}, check_settings)


@register("task", "image-classification")
def image_classification() -> ClassificationTask:
    """Defect classes of surface images (timm backbone with an edge branch, frozen-then-full schedule)."""
    from faultcli.classification.freeze import ImageClassificationHooks
    from faultcli.classification.images import image_data

    return ClassificationTask(
        "image-classification", image_data, ImageClassificationHooks, {"name", "pretrained", "weights_path"}
    )
