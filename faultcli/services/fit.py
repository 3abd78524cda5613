"""The one training pipeline: resolve config → data → model → hooks → engine → post-fit → test → report.

Every task (``faultcli.tasks``) trains through ``fit``; what differs lives in the task object. k-fold
runs fit each fold in a sub-folder and aggregate; ``--resume`` continues from a run's last.pt.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from faultcli.config import Config
from faultcli.config.load import config_to_dict
from faultcli.errors import ConfigError, DataError
from faultcli.progress import LogReporter, Reporter
from faultcli.runs import Run, append_jsonl
from faultcli.tasks import Task, get_task


def trainer(task: str) -> Callable[..., dict[str, Any]]:
    """The service that trains ``task``: the one fit flow, or task clip's, which adds the tuned model's
    figures (calibration shift, text LoRA counts) to the summary."""
    if task == "clip":
        from faultcli.services.clip import train_clip

        return train_clip
    return fit


def check_recipe(cfg: Config) -> Task:
    """Everything that can be checked before a run folder exists or any data is read: the task's own
    cross-field checks, the model's settings against its builder, and the selection metrics."""
    task = get_task(cfg.task)
    task.check(cfg)
    if cfg.train.init:  # a missing or foreign weights file stops here, before any data is read
        from faultcli.models.init_weights import read_weights

        read_weights(cfg.train.init)
    known = task.metrics(cfg)
    t = cfg.train
    mode = known.get(t.early_stop_metric)
    if mode is None:
        choices = ", ".join(k for k in known if k.startswith("val_"))
        raise ConfigError(
            f"train.early_stop_metric = {t.early_stop_metric!r} is not a figure of task {cfg.task!r}; "
            f"choose one of {choices}"
        )
    if mode != t.early_stop_mode:
        direction = "maximised" if mode == "max" else "minimised"
        raise ConfigError(
            f"train.early_stop_metric = {t.early_stop_metric!r} should be {direction}; "
            f"set train.early_stop_mode = {mode!r}"
        )
    if t.tie_break_metric and t.tie_break_metric not in known:
        raise ConfigError(
            f"train.tie_break_metric = {t.tie_break_metric!r} is not a figure of task {cfg.task!r}; "
            f"choose one of {', '.join(known)} or ''"
        )
    return task


def folds_of(cfg: Config) -> list[int | None]:
    if cfg.data.split != "kfold":
        return [None]
    return [cfg.data.fold] if cfg.data.fold >= 0 else list(range(cfg.data.folds))


def fit(cfg: Config, run: Run, reporter: Reporter, resume: Path | None = None) -> dict[str, Any]:
    """Train (every fold in k-fold mode) and return the run's summary, also written to summary.json."""
    from faultcli.engine.strategy import current
    from faultcli.services.common import set_threads

    task = check_recipe(cfg)
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
        results.append(fit_one(task, fold_cfg, run, out, fold, reporter, resume))
    summary = results[0] if len(results) == 1 else aggregate_folds(results)
    if current().is_main:
        run.write_summary(summary)
    return summary


def fit_one(
    task: Task, cfg: Config, run: Run, out: Path, fold: int | None, reporter: Reporter, resume: Path | None = None
) -> dict[str, Any]:
    """One fold (or the whole split): train, fit the post-fit step on validation, evaluate on test."""
    import torch

    from faultcli.adapt.report import adapt_summary
    from faultcli.engine.checkpoints import load_checkpoint, save_checkpoint
    from faultcli.engine.interrupt import Interrupted, stop_on_signals
    from faultcli.engine.strategy import current
    from faultcli.services.common import build_model, make_engine, make_optimizer, pick_device

    t = cfg.train
    strategy = current()
    device = strategy.device(pick_device(t.device))
    with strategy.main_first():  # one process builds the prepared-data cache, the others read it
        data = task.build_data(cfg, reporter)
    torch.manual_seed(cfg.seed)
    counts = {split: len(task.rows(data, split)) for split in ("train", "val", "test")}
    for split, n in counts.items():
        if n == 0:
            raise DataError(f"the {split} split is empty; change data.split or data.fractions in the recipe")
    spec = task.model_spec(cfg, data)
    init = {} if resume is not None else spec.init  # resuming loads every weight from the checkpoint
    model = strategy.prepare(build_model(spec.name, {**spec.kwargs, **init}).to(device), t.sync_batchnorm)
    params = sum(p.numel() for p in model.parameters())
    reporter.info(task.describe(cfg, data, spec, params, device))
    started_from = start_from(cfg, model, task.classes(data), reporter, resume)
    hooks = task.build_hooks(cfg, data, device)
    train_loader, val_loaders = task.loaders(cfg, data)
    train_loader = strategy.shard(train_loader)
    batches = min(len(train_loader), t.max_train_batches or len(train_loader))
    steps = -(-batches // t.accumulate)  # optimiser steps per epoch
    reporter.info(describe_batch(t.batch_size, t.accumulate, strategy, t.sync_batchnorm))
    plateau = task.plateau_metric or (t.early_stop_metric, t.early_stop_mode)
    optimizer, schedule = make_optimizer(cfg, model, hooks.parts(), steps, *plateau)
    # after the optimiser: train.lr_scale = 0 and adapter-only models freeze parameters
    trainable = sum(p.numel() for m in (model, *hooks.parts().values()) for p in m.parameters() if p.requires_grad)
    if trainable < params:
        reporter.info(f"trainable: {trainable:,} of {params:,} parameters ({trainable / params:.2%})")
    extra = {
        "config": config_to_dict(cfg),
        "classes": task.classes(data),
        "model_name": spec.name,
        "model_kwargs": spec.kwargs,
        "data_info": task.data_info(data),
        "task": cfg.task,
        "fold": -1 if fold is None else fold,
        "params": params,
        **started_from,
    }

    def log_metrics(record: dict[str, Any]) -> None:
        if fold is None:
            run.log_metrics(record)
        else:
            append_jsonl(out / "metrics.jsonl", {"fold": fold, **record})

    engine, checkpoints = make_engine(
        cfg,
        model,
        optimizer,
        schedule,
        hooks,
        out=out,
        log_metrics=log_metrics,
        extra=extra,
        reporter=reporter,
        device=device,
        steps_per_epoch=steps,
        strategy=strategy,
    )
    if resume is not None:
        engine.load_state_dict(load_checkpoint(resume))
        reporter.info(f"resumed from {resume} at epoch {engine.epoch + 1}")
    started = time.perf_counter()
    seconds_before = sum(m.get("epoch_seconds", 0.0) for m in engine.history)
    try:
        with stop_on_signals(engine):
            history = engine.fit(train_loader, val_loaders, t.epochs)
    except Interrupted as err:
        last = out / "checkpoints" / "last.pt"
        hint = f"{last} holds where it stopped: run the same command with --resume {run.path}"
        raise Interrupted(f"{err}; {hint}") from None
    train_seconds = seconds_before + time.perf_counter() - started
    if not strategy.is_main:  # the main process selects, tests and writes; the others are done
        return {}

    best_path = out / "checkpoints" / "best.pt"
    best = load_checkpoint(best_path)
    model.load_state_dict(best["model"])
    fitted = task.post_fit(cfg, model, data, device, reporter)
    if fitted:  # stored in best.pt, so `faultcli eval` and predict use the same values
        save_checkpoint(best_path, {**best, **fitted})
    title = task.test_title.format(split="test", name=cfg.name or run.path.name)
    test = task.evaluate(cfg, model, data, "test", out / "test", fitted, device, reporter, title, history)
    adapted = adapt_summary(task, cfg, model, data, out, device, reporter, history, checkpoints.best_epoch, test)
    metric = t.early_stop_metric
    return {
        **task.summary(cfg, data, test, fitted),
        **started_from,
        **adapted,
        "best_epoch": checkpoints.best_epoch + 1,
        f"best_{metric}": checkpoints.best,
        "epochs_run": engine.epoch,
        "train_seconds": train_seconds,
        "epoch_seconds": float(np.mean([m["epoch_seconds"] for m in history])),
        "params": params,
        "trainable_params": trainable,
        "n_train": counts["train"],
        "n_val": counts["val"],
        "n_test": counts["test"],
    }


def describe_batch(batch: int, accumulate: int, strategy: Any, sync_batchnorm: bool) -> str:
    """The effective batch, for the log: per-process batch × processes × accumulated batches."""
    line = f"effective batch {batch * strategy.world_size * accumulate} = {batch} per batch"
    line += f" × {strategy.describe()} × {accumulate} accumulated"
    if sync_batchnorm and strategy.world_size == 1:
        line += "; train.sync_batchnorm has no effect in one process"
    return line


def start_from(cfg: Config, model: Any, classes: list[str], reporter: Reporter, resume: Path | None) -> dict[str, Any]:
    """``train.init``: load the matching weights of another run or file (not on --resume, whose checkpoint
    holds every weight); returns the summary's init_* figures."""
    if not cfg.train.init or resume is not None:
        return {}
    from faultcli.pretrain.init import init_model

    result = init_model(model, cfg.train.init, classes)
    reporter.info(result.describe())
    return result.summary()


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
