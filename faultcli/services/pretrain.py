"""`faultcli pretrain`: train a vibration recipe's encoder without its classifier (NT-Xent, SupCon, masked
reconstruction) through the one fit flow, then optionally finetune another recipe from it.

The run folder holds the checkpoints (``faultcli finetune --init RUN`` reads best.pt), ``encoder.pt`` (the
encoder's weights alone), the projection head or decoder, the resolved recipe and ``manifest.json`` (every
recording pretrained on, with its SHA-1). With a finetune stage, ``pretrain/`` and ``finetune/`` are
sub-folders of one run and summary.json holds both.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Any

from faultcli.config import Config, dump_toml
from faultcli.errors import ConfigError
from faultcli.progress import LogReporter, Reporter
from faultcli.runs import Run, atomic_write_bytes, atomic_write_json, atomic_write_text


def pretrain_config(cfg: Config) -> Config:
    """The loop pretraining runs: the recipe's [train] for every epoch (no early stop), keeping the
    checkpoint with the best val k-NN probe (ties: the later epoch), or the last one without probes."""
    metric = "val_knn_acc" if cfg.pretrain.probe_every else "epoch"
    train = dataclasses.replace(
        cfg.train,
        early_stop_metric=metric,
        early_stop_mode="max",
        tie_break_metric="epoch",
        tie_break_mode="max",
        patience=0,
    )
    return dataclasses.replace(cfg, train=train)


def check_pretrain(cfg: Config, finetune: Config | None = None):
    """Everything checkable before a run folder exists or data is read, for both stages."""
    from faultcli.models.init_weights import read_weights
    from faultcli.pretrain.task import PretrainTask
    from faultcli.services.fit import check_recipe

    task = PretrainTask()
    task.check(cfg)
    if cfg.train.init:
        read_weights(cfg.train.init)
    if finetune is not None:
        if finetune.train.init:
            raise ConfigError("the finetune recipe sets train.init; --then-finetune starts it from the pretraining")
        check_recipe(finetune)
        check_same_encoder(cfg, finetune)
    return task


def check_same_encoder(pre: Config, fine: Config) -> None:
    """The finetune recipe must build the pretrained encoder (same model, window and settings)."""
    from faultcli.models import create_model
    from faultcli.pretrain.init import is_head_key
    from faultcli.pretrain.task import PretrainTask

    shapes = []
    for cfg in (pre, fine):
        model = create_model(cfg.model.name, **PretrainTask._kwargs(cfg, 2))
        shapes.append({k: tuple(v.shape) for k, v in model.state_dict().items() if not is_head_key(k)})
    if shapes[0] != shapes[1]:
        raise ConfigError(
            f"the finetune recipe's encoder ({fine.model.name}, window {fine.data.window}) is not the pretrained "
            f"one ({pre.model.name}, window {pre.data.window}); give both recipes the same [model], [vibration] "
            "and data.window"
        )


def pretrain(
    cfg: Config, run: Run, reporter: Reporter, finetune: Config | None = None, resume: Path | None = None
) -> dict[str, Any]:
    """Pretrain (into ``run`` or its ``pretrain/`` sub-folder), then finetune ``finetune`` from it into
    ``finetune/``; returns the summary also written to summary.json."""
    from faultcli.engine.strategy import current
    from faultcli.services.common import set_threads
    from faultcli.services.fit import fit, fit_one

    task = check_pretrain(cfg, finetune)
    logged = LogReporter(reporter, run.logger)
    set_threads(cfg.train.threads)
    strategy = current()  # under torchrun every process trains; the main one writes
    stage = run if finetune is None else Run(run.path / "pretrain", run.logger)
    if finetune is not None and strategy.is_main:
        atomic_write_text(stage.file("config.toml"), dump_toml(cfg))
        logged.info(f"stage 1 of 2: pretraining into {stage.path}")
    summary = fit_one(task, cfg, stage, stage.path, None, logged, resume)
    with strategy.main_first():  # the finetune stage of every process reads the encoder written here
        if strategy.is_main:
            write_outputs(stage.path, task, cfg, summary)
            (run if finetune is None else stage).write_summary(summary)
    if finetune is None:
        return summary
    tuned = dataclasses.replace(finetune, train=dataclasses.replace(finetune.train, init=str(stage.path)))
    second = Run(run.path / "finetune", run.logger)
    if strategy.is_main:
        atomic_write_text(second.file("config.toml"), dump_toml(tuned))
        logged.info(f"stage 2 of 2: finetuning {finetune.name or 'the recipe'} from the pretrained encoder")
    result = fit(tuned, second, reporter)
    combined = {**result, "pretrain": summary, "stages": ["pretrain", "finetune"]}
    if strategy.is_main:
        run.write_summary(combined)
    return combined


def write_outputs(folder: Path, task: Any, cfg: Config, summary: dict[str, Any]) -> None:
    """Mark the checkpoints as a pretraining's (``--init`` then starts the classifier afresh), and write the
    encoder's weights, the projection head or decoder, and the manifest of recordings pretrained on."""
    import torch

    from faultcli.engine.checkpoints import load_checkpoint, save_checkpoint
    from faultcli.pretrain.init import is_head_key

    pool = task.pool
    marker = {"method": cfg.pretrain.method, "pool_windows": len(pool), "pool_unlabelled": pool.unlabelled}
    for name in ("best.pt", "last.pt"):
        path = folder / "checkpoints" / name
        state = load_checkpoint(path)
        save_checkpoint(path, {**state, "pretrain": marker})
    best = load_checkpoint(folder / "checkpoints" / "best.pt")
    encoder = {k: v for k, v in best["model"].items() if not is_head_key(k)}
    head_name = "decoder" if cfg.pretrain.method == "masked" else "projection"
    head = {k.split(".", 1)[1]: v for k, v in best["parts"].items() if k.startswith(head_name + ".")}
    for name, weights in (("encoder.pt", encoder), (f"{head_name}_head.pt", head)):
        buffer = io.BytesIO()  # serialised first: a full disk then fails in the atomic write, as one line
        torch.save(weights, buffer)
        atomic_write_bytes(folder / name, buffer.getvalue())
    atomic_write_json(
        folder / "manifest.json",
        {
            **marker,
            "model": cfg.model.name,
            "best_epoch": summary["best_epoch"],
            "recordings": pool.manifest,
        },
    )
