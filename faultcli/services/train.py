"""`faultcli finetune`: prepare data, train with the one engine, evaluate the best checkpoint on test."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from faultcli.config import Config
from faultcli.engine.checkpoints import load_checkpoint, save_checkpoint
from faultcli.errors import ConfigError, DataError
from faultcli.losses import FocalLoss, class_balanced_alpha
from faultcli.progress import LogReporter, Reporter
from faultcli.runs import Run, append_jsonl
from faultcli.services.common import make_engine, make_optimizer, pick_device, set_threads
from faultcli.services.evaluate import evaluate_split, fit_val_temperature
from faultcli.services.kits import TaskKit, build_kit, build_model
from faultcli.tasks.classification import ClassificationHooks


def count_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def folds_of(cfg: Config) -> list[int | None]:
    if cfg.data.split != "kfold":
        return [None]
    return [cfg.data.fold] if cfg.data.fold >= 0 else list(range(cfg.data.folds))


def finetune(cfg: Config, run: Run, reporter: Reporter, resume: Path | None = None) -> dict[str, Any]:
    """Train (every fold in k-fold mode) and return the run's summary, also written to summary.json."""
    reporter = LogReporter(reporter, run.logger)
    set_threads(cfg.train.threads)
    folds = folds_of(cfg)
    if resume is not None and len(folds) > 1:
        raise ConfigError("--resume works on one fold at a time; add --set data.fold=<k>")
    results = []
    for fold in folds:
        out = run.path if len(folds) == 1 else run.path / f"fold-{fold}"
        fold_cfg = cfg
        if fold is not None:
            reporter.info(f"fold {fold + 1}/{cfg.data.folds}")
            # each fold normalises with its own train statistics; the prepared data is cached, so cheap
            fold_cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, fold=fold))
        kit = build_kit(fold_cfg, reporter)
        results.append(train_one(fold_cfg, kit, run, out, fold, reporter, resume))
    summary = results[0] if len(results) == 1 else aggregate_folds(results)
    run.write_summary(summary)
    return summary


def aggregate_folds(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Each numeric figure as ``<name>_mean`` and ``<name>_std`` beside the per-fold values."""
    summary: dict[str, Any] = {"folds": len(results)}
    for key in results[0]:
        values = [r[key] for r in results]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            summary[f"{key}_mean"] = float(np.mean(values))
            summary[f"{key}_std"] = float(np.std(values))
            summary.update({f"fold{i}_{key}": v for i, v in enumerate(values)})
    return summary


def make_loss(cfg: Config, train_labels: np.ndarray, num_classes: int) -> FocalLoss:
    t = cfg.train
    if t.loss == "bce_dice":
        raise ConfigError("train.loss = 'bce_dice' is for segmentation; use 'focal' or 'ce' for classification")
    counts = np.bincount(train_labels, minlength=num_classes)
    alpha = class_balanced_alpha(counts, t.class_balance_beta) if t.loss == "focal" else None
    return FocalLoss(gamma=t.focal_gamma if t.loss == "focal" else 0.0, alpha=alpha, label_smoothing=t.label_smoothing)


def train_one(
    cfg: Config, kit: TaskKit, run: Run, out: Path, fold: int | None, reporter: Reporter, resume: Path | None = None
) -> dict[str, Any]:
    t = cfg.train
    device = pick_device(t.device)
    torch.manual_seed(cfg.seed)
    train_rows, val_rows = kit.rows("train", fold), kit.rows("val", fold)
    for split, rows in (("train", train_rows), ("val", val_rows), ("test", kit.rows("test", fold))):
        if len(rows) == 0:
            raise DataError(f"the {split} split is empty; change data.split or data.fractions in the recipe")
    init = {} if resume is not None else kit.init_kwargs  # resuming loads every weight from the checkpoint
    model = build_model(kit.model_name, {**kit.model_kwargs, **init}).to(device)
    params = count_params(model)
    reporter.info(
        f"model {kit.model_name}: {params / 1e6:.2f} M parameters, {len(kit.classes)} classes, "
        f"{len(train_rows)} train / {len(val_rows)} val samples, device {device}"
    )
    hooks_cls = kit.make_hooks or ClassificationHooks
    hooks = hooks_cls(
        make_loss(cfg, kit.labels(train_rows), len(kit.classes)).to(device),
        len(kit.classes),
        arcface_weight=t.arcface_weight,
        mixup_alpha=t.mixup_alpha,
        mixup_prob=t.mixup_prob,
        augment=kit.augment,
        seed=cfg.seed,
    )
    train_loader = kit.loader("train", t.batch_size, fold=fold, train=True, balanced=t.balanced_sampler)
    val_loader = kit.loader("val", cfg.eval.batch_size, fold=fold)
    steps = min(len(train_loader), t.max_train_batches or len(train_loader))
    metric = t.early_stop_metric
    optimizer, schedule = make_optimizer(cfg, model, steps, metric, t.early_stop_mode)
    extra = {
        "config": dataclasses.asdict(cfg),
        "classes": kit.classes,
        "model_name": kit.model_name,
        "model_kwargs": kit.model_kwargs,
        "data_info": kit.data_info,
        "task": cfg.task,
        "fold": -1 if fold is None else fold,
        "params": params,
    }
    engine, checkpoints = make_engine(
        cfg,
        model,
        optimizer,
        schedule,
        hooks,
        out=out,
        log_metrics=lambda rec: _log_metrics(run, out, fold, rec),
        extra=extra,
        reporter=reporter,
        device=device,
        steps_per_epoch=steps,
    )
    if resume is not None:
        engine.load_state_dict(load_checkpoint(resume))
        reporter.info(f"resumed from {resume} at epoch {engine.epoch + 1}")
    started = time.perf_counter()
    seconds_before = sum(m.get("epoch_seconds", 0.0) for m in engine.history)
    history = engine.fit(train_loader, val_loader, t.epochs)
    train_seconds = seconds_before + time.perf_counter() - started
    if metric not in history[-1]:
        raise ConfigError(
            f"train.early_stop_metric = {metric!r} is not a figure of this task; "
            f"choose one of {', '.join(k for k in history[-1] if k.startswith('val_'))}"
        )
    best_path = out / "checkpoints" / "best.pt"
    best = load_checkpoint(best_path)
    model.load_state_dict(best["model"])
    temperature = 1.0
    if cfg.eval.calibrate:  # stored in best.pt, so `faultcli eval` reports the same probabilities
        temperature = fit_val_temperature(model, kit, val_rows, cfg, device, reporter)
        save_checkpoint(best_path, {**best, "temperature": temperature})
        reporter.info(f"softmax temperature {temperature:.3f}, fitted on the validation split")
    test_rows = kit.rows("test", fold)
    test = evaluate_split(model, kit, test_rows, out, cfg, device, reporter, split="test", temperature=temperature)
    return {
        "test_accuracy": test["accuracy"],
        "test_macro_f1": test["macro_f1"],
        "test_ece": test["ece"],
        "test_macro_auroc": test["macro_auroc"],
        "temperature": temperature,
        "best_epoch": checkpoints.best_epoch + 1,
        f"best_{metric}": checkpoints.best,
        "epochs_run": engine.epoch,
        "train_seconds": train_seconds,
        "params": params,
        "n_train": len(train_rows),
        "n_val": len(val_rows),
        "n_test": len(test_rows),
        **{f"test_{k}": v for k, v in test.items() if k.startswith("recording_") or k.startswith("min_")},
    }


def _log_metrics(run: Run, out: Path, fold: int | None, record: dict[str, Any]) -> None:
    if fold is None:
        run.log_metrics(record)
    else:
        append_jsonl(out / "metrics.jsonl", {"fold": fold, **record})
