"""`faultcli finetune`: train any task from a recipe (vibration or image classification, segmentation)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from faultcli.cli import console as con
from faultcli.cli.app import app
from faultcli.cli.options import Name, Out, Overrides, PrintConfig, Recipe, Resume

SUMMARY_KEYS = (
    "test_accuracy",
    "test_macro_f1",
    "test_accuracy_mean",
    "test_accuracy_std",
    "test_macro_f1_mean",
    "test_macro_f1_std",
    "best_epoch",
    "train_seconds",
    "params",
    "accuracy",
    "macro_f1",
    "ece",
    "recording_accuracy",
    "min_class_recall",
    # segmentation: masks on the images with a defect first, the all-images Dice last
    "dice_pos",
    "iou_pos",
    "defect_dice",
    "defect_iou",
    "detect_precision",
    "detect_recall",
    "weighted_f",
    "s_measure",
    "e_measure_mean",
    "mae",
    "dice_all_images",
    "test_dice_pos",
    "test_iou_pos",
    "test_dice_pos_class_mean",
    "test_defect_dice",
    "test_defect_iou",
    "test_detect_precision",
    "test_detect_recall",
    "test_weighted_f",
    "test_s_measure",
    "test_e_measure_mean",
    "test_mae",
    "test_dice_all_images",
    "test_dice_pos_mean",
    "test_dice_pos_std",
    "test_defect_dice_mean",
    "test_detect_recall_mean",
    "test_weighted_f_mean",
    "test_dice_all_images_mean",
    "epochs_run",
    "epoch_seconds",
)


@app.command(rich_help_panel="Train")
def finetune(
    recipe: Recipe = None,
    overrides: Overrides = None,
    name: Name = None,
    out: Out = None,
    print_config: PrintConfig = False,
    resume: Resume = None,
    init: Annotated[
        Optional[str],
        typer.Option("--init", help="Start from the weights of this run folder or .pt file (train.init)."),
    ] = None,
) -> None:
    """Train any task from a recipe (vibration or image classification, segmentation), then evaluate on test."""
    if init is not None:  # the same as --set train.init=..., quoted so any path is one TOML string
        overrides = [*(overrides or []), f"train.init={json.dumps(init)}"]
    train_recipe("finetune", recipe, overrides, name, out, print_config, resume)


def train_recipe(
    command: str,
    recipe: Path | None,
    overrides: list[str] | None,
    name: str | None,
    out: Path | None,
    print_config: bool,
    resume: Path | None,
    task: str | None = None,
    keys: tuple[str, ...] = SUMMARY_KEYS,
) -> None:
    """What `finetune` and its aliases `segment train`, `clip train` do: check the recipe, open the run, train
    with the task's service, print. ``task``: the one task the alias trains; ``keys``: the figures printed."""
    from faultcli.services.common import resolve_config, start_run
    from faultcli.services.fit import check_recipe, trainer

    if resume is not None:
        from faultcli.services.resume import resume_run

        summary, path = resume_run(resume, overrides or [], con.ConsoleReporter())
        con.print_summary(f"{command} (resumed)", summary, keys, path)
        return
    cfg = resolve_config(recipe, overrides)
    if task is not None and cfg.task != task:
        from faultcli.errors import ConfigError

        raise ConfigError(f"faultcli {command} trains task {task!r}; this recipe's task is {cfg.task!r} (use finetune)")
    if print_config:
        con.print_config(cfg)
        return
    check_recipe(cfg)  # before the run folder exists
    with start_run(command, cfg, name, out) as run:
        summary = trainer(cfg.task)(cfg, run, con.ConsoleReporter())
    con.print_summary(command, summary, keys, run.path)
