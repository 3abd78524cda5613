"""Pretraining as a task of the one fit flow (``services/fit.fit_one``): the pool's windows train the
recipe's model through ``PretrainHooks``; the k-NN probe selects the checkpoint on val and gives the test
figure at the end. Not registered: ``faultcli pretrain`` builds it for a vibration recipe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from faultcli.config import Config
from faultcli.data.loader import BatchLoader
from faultcli.engine.engine import to_device
from faultcli.errors import ConfigError
from faultcli.pretrain.hooks import PretrainHooks
from faultcli.pretrain.init import is_head_key
from faultcli.pretrain.pool import Pool
from faultcli.pretrain.probe import ProbeLoader, bank_rows, encode, knn_accuracy
from faultcli.progress import Reporter
from faultcli.runs import atomic_write_json
from faultcli.tasks.base import ModelSpec, Task

TASK = "vibration-classification"  # the recipes pretraining reads


def probe_epochs(every: int, epochs: int) -> set[int]:
    """0-based epochs the probe runs at: the first (the checkpoint callback needs its figure from the start),
    every ``every``-th and the last; none for 0."""
    if every <= 0:
        return set()
    return {0, epochs - 1} | {e for e in range(epochs) if (e + 1) % every == 0}


class PretrainTask(Task):
    name = "pretrain"
    hooks = PretrainHooks
    test_title = "k-NN probe on the {split} split"

    def __init__(self) -> None:
        self._hooks: PretrainHooks | None = None
        self.pool: Pool | None = None  # the last pool built: the run's manifest lists its recordings

    # --- before any compute ------------------------------------------------------------------------
    def check(self, cfg: Config) -> None:
        from faultcli.models import create_model
        from faultcli.tasks import get_task

        if cfg.task != TASK:
            raise ConfigError(f"faultcli pretrain trains vibration encoders; this recipe's task is {cfg.task!r}")
        get_task(TASK).check(cfg)
        if cfg.adapt.method != "none":
            raise ConfigError("[adapt] is for faultcli finetune; remove adapt.method from the pretraining recipe")
        p = cfg.pretrain
        if p.method == "supcon" and p.extra_roots:
            raise ConfigError(
                "pretrain.method = 'supcon' needs a label for every window, and pretrain.extra_roots are "
                "unlabelled; drop the extra folders or use method ntxent or masked"
            )
        if p.method == "masked" and not 1 <= p.mask_span <= cfg.data.window // 2:
            raise ConfigError(
                f"pretrain.mask_span = {p.mask_span} must be 1 ... {cfg.data.window // 2} for windows of "
                f"{cfg.data.window}; lower it"
            )
        model = create_model(cfg.model.name, **self._kwargs(cfg, 2))
        if all(is_head_key(name) for name, _ in model.named_parameters()):
            raise ConfigError(
                f"model {cfg.model.name!r} has no trainable encoder, only a classifier on fixed features; "
                "pretrain a model with one (wdcnn, multimodal_small, ...)"
            )

    @staticmethod
    def _kwargs(cfg: Config, classes: int) -> dict[str, Any]:
        from faultcli.classification.vibration import model_settings

        return {"num_classes": classes, "window": cfg.data.window, "sample_rate": cfg.data.sample_rate} | (
            model_settings(cfg)
        )

    def metrics(self, cfg: Config) -> dict[str, str]:
        return {"epoch": "max", "train_loss": "min", "val_knn_acc": "max"}

    # --- fit ---------------------------------------------------------------------------------------
    def build_data(self, cfg: Config, reporter: Reporter, data_info: dict[str, Any] | None = None) -> Pool:
        from faultcli.classification.vibration import vibration_data
        from faultcli.pretrain.pool import build_pool

        self.pool = build_pool(cfg, vibration_data(cfg, reporter, data_info), reporter)
        return self.pool

    def classes(self, data: Pool) -> list[str]:
        return list(data.labelled.classes)

    def data_info(self, data: Pool) -> dict[str, Any]:
        return data.labelled.data_info

    def model_spec(self, cfg: Config, data: Pool) -> ModelSpec:
        return ModelSpec(data.labelled.model_name, data.labelled.model_kwargs, data.labelled.init_kwargs)

    def describe(self, cfg: Config, data: Pool, spec: ModelSpec, params: int, device) -> str:
        unlabelled = f", {data.unlabelled} of them unlabelled" if data.unlabelled else ""
        return (
            f"pretraining {spec.name} ({params / 1e6:.2f} M parameters) by {cfg.pretrain.method} on {len(data)} "
            f"windows{unlabelled}; k-NN probe on {len(data.rows('val'))} val windows, device {device}"
        )

    def build_hooks(self, cfg: Config, data: Pool, device: torch.device) -> PretrainHooks:
        from faultcli.models import create_model
        from faultcli.models.heads import ProjectionHead
        from faultcli.pretrain.decoder import WindowDecoder
        from faultcli.pretrain.objectives import view_augment

        p = cfg.pretrain
        width = create_model(cfg.model.name, **self._kwargs(cfg, len(data.labelled.classes))).num_features
        head = (
            WindowDecoder(width, cfg.data.window)
            if p.method == "masked"
            else ProjectionHead(width, out_features=p.projection_dim)
        )
        self._hooks = PretrainHooks(
            p.method,
            head,
            augment=view_augment(cfg.augment),
            temperature=p.temperature,
            mask_ratio=p.mask_ratio,
            mask_span=p.mask_span,
            probe_epochs=probe_epochs(p.probe_every, cfg.train.epochs),
            probe_k=p.probe_k,
            seed=cfg.seed,
        )
        return self._hooks

    def _loader(self, data: Pool, rows: np.ndarray, batch_size: int) -> BatchLoader:
        return BatchLoader(rows, data.labelled.fetch, batch_size)

    def loaders(self, cfg: Config, data: Pool) -> tuple[Any, dict[str, Any]]:
        if self._hooks is None:
            raise RuntimeError("build_hooks comes before loaders")
        train = data.loader(cfg.train.batch_size)
        if cfg.pretrain.probe_every <= 0:
            return train, {}
        size = cfg.eval.batch_size
        bank = self._loader(data, bank_rows(data.labelled.rows("train"), cfg.seed), size)
        probe = ProbeLoader(bank, self._loader(data, data.rows("val"), size), self._hooks.probe_due)
        return train, {"": probe}

    def evaluate(self, cfg, model, data: Pool, split, out: Path, fitted, device, reporter, title, history=None):
        """The k-NN accuracy of ``split`` against the train windows, with the chosen encoder frozen."""
        model.eval()
        size = cfg.eval.batch_size
        parts = {}
        for name, rows in (("bank", bank_rows(data.labelled.rows("train"), cfg.seed)), (split, data.rows(split))):
            feats, ys = [], []
            for batch in self._loader(data, rows, size):
                feats.append(encode(model, to_device(batch, device)).cpu())
                ys.append(batch["y"])
            parts[name] = (torch.cat(feats).numpy(), torch.cat(ys).numpy())
        accuracy = knn_accuracy(*parts["bank"], *parts[split], cfg.pretrain.probe_k)
        figures = {"knn_accuracy": accuracy, "windows": len(parts[split][1]), "bank_windows": len(parts["bank"][1])}
        reporter.info(f"{title}: k-NN accuracy {accuracy:.4f} ({figures['windows']} windows)")
        atomic_write_json(Path(out) / "knn.json", {"title": title, "k": cfg.pretrain.probe_k, **figures})
        return figures

    def summary(self, cfg: Config, data: Pool, test: dict[str, Any], fitted: dict[str, Any]) -> dict[str, Any]:
        return {
            "method": cfg.pretrain.method,
            "test_knn_accuracy": test["knn_accuracy"],
            "pool_windows": len(data),
            "pool_unlabelled": data.unlabelled,
        }
