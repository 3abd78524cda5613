"""`faultcli eval` (dispatched by the checkpoint's task) and `faultcli segment predict`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from faultcli.config import Config
from faultcli.engine.checkpoints import load_checkpoint
from faultcli.errors import CheckpointError
from faultcli.progress import LogReporter, Reporter
from faultcli.runs import Run
from faultcli.services.common import load_trained_model, pick_device, resolve_config, set_threads


def load_checkpoint_or_run(checkpoint: Path) -> dict[str, Any]:
    """A checkpoint file, or a run folder (or runs/finetune/latest): its best checkpoint."""
    path = Path(checkpoint)
    path = path / "checkpoints" / "best.pt" if path.is_dir() else path
    state = load_checkpoint(path)
    missing = [key for key in ("classes", "model_name", "model_kwargs") if key not in state]
    if missing:  # every trained model's checkpoint holds them; a hand-made or foreign file may not
        raise CheckpointError(
            f"{path} is not a trained faultcli model (no {', '.join(missing)}); pass a run folder or its best.pt"
        )
    return state


def checkpoint_config(checkpoint: Path, recipe: Path | None, overrides: list[str] | None) -> tuple[dict, Config]:
    """The checkpoint's own config, under the recipe and overrides, with its class list pinned."""
    state = load_checkpoint_or_run(checkpoint)
    return state, state_config(state, recipe, overrides)


def state_config(state: dict[str, Any], recipe: Path | None, overrides: list[str] | None) -> Config:
    """A loaded checkpoint's config under the recipe and overrides, with its class list pinned."""
    base = dict(state["config"])
    # the checkpoint's classes, in its order; a folder holding only some of them is fine
    base["data"] = {**base["data"], "classes": list(state["classes"]), "allow_missing_classes": True}
    return resolve_config(recipe, overrides, base=base)


def run_eval(
    state: dict[str, Any],
    cfg: Config,
    split: str,
    run: Run,
    reporter: Reporter,
    members: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Evaluate a checkpoint on a split of its data, or on another labelled folder (data.root).

    ``members``: further checkpoints evaluated with it as one ensemble, where the task allows it.
    """
    from faultcli.tasks import get_task

    states = [state, *(members or [])]
    if any("pretrain" in s for s in states):
        raise CheckpointError(
            "a pretraining run has no trained classifier to evaluate; finetune from it with --init RUN first"
        )
    tasks = {s.get("task", "vibration-classification") for s in states}  # older checkpoints name no task
    if len(tasks) > 1:
        raise CheckpointError(
            f"ensemble members come from different tasks ({', '.join(map(str, tasks))}); pass one kind"
        )
    task = get_task(state.get("task", "vibration-classification"))
    reporter = LogReporter(reporter, run.logger)
    set_threads(cfg.train.threads)
    device = pick_device(cfg.train.device)
    detail = task.evaluate_checkpoints(states, cfg, split, run.path, reporter, device)
    summary = {k: v for k, v in detail.items() if k != "files"}
    summary.update({"split": split, "data_root": cfg.data.root, "members": len(states)})
    run.write_summary(summary)
    return summary


def run_segment_predict(state: dict[str, Any], cfg: Config, source: Path, run: Run, reporter: Reporter) -> dict:
    """Masks, overlays and an RLE CSV for every image under ``source`` (no masks needed)."""
    from faultcli.segmentation.predict import predict_folder

    if state.get("task") != "segmentation":
        raise CheckpointError(
            f"the checkpoint is a {state.get('task')} checkpoint; segment predict needs a segmentation one"
        )
    reporter = LogReporter(reporter, run.logger)
    set_threads(cfg.train.threads)
    device = pick_device(cfg.train.device)
    model = load_trained_model(state, device)
    summary = predict_folder(
        model,
        state,
        source,
        run.path,
        tile_overlap=cfg.segmentation.tile_overlap,
        tta_flip=cfg.segmentation.tta_flip,
        batch_size=min(cfg.eval.batch_size, 64),
        device=device,
        reporter=reporter,
    )
    run.write_summary(summary)
    return summary
