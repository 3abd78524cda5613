"""`faultcli segment train | predict`: defect segmentation with smp models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from faultcli.cli import console as con
from faultcli.cli.app import app
from faultcli.cli.options import Name, Out, Overrides, PrintConfig, Recipe

segment_app = typer.Typer(help="Pixel masks of defects: train smp models, predict masks.", no_args_is_help=True)
app.add_typer(segment_app, name="segment", rich_help_panel="Train")

SUMMARY_KEYS = (
    "test_dice",
    "test_iou",
    "test_dice_pos",
    "test_dice_untuned",
    "test_detect_precision",
    "test_detect_recall",
    "best_epoch",
    "epochs_run",
    "train_seconds",
    "epoch_seconds",
    "params",
)


@segment_app.command("train")
def train(
    recipe: Recipe = None,
    overrides: Overrides = None,
    name: Name = None,
    out: Out = None,
    print_config: PrintConfig = False,
) -> None:
    """Train a segmentation model from a recipe, tune thresholds on val, evaluate on test."""
    from faultcli.services.common import resolve_config, start_run
    from faultcli.services.segment import check_train_config, segment_train

    cfg = resolve_config(recipe, overrides)
    if print_config:
        con.print_config(cfg)
        return
    check_train_config(cfg)  # before the run folder exists
    with start_run("segment", cfg, name, out) as run:
        summary = segment_train(cfg, run, con.ConsoleReporter())
    thresholds = [[f"threshold {c}", t] for c, t in summary["thresholds"].items()]
    con.print_summary("segment train", summary, SUMMARY_KEYS, run.path, thresholds)


@segment_app.command("predict")
def predict(
    checkpoint: Annotated[Path, typer.Option("--checkpoint", "-c", help="A segment run's checkpoints/best.pt.")],
    source: Annotated[Path, typer.Option("--input", "-i", help="An image or a folder of images.")],
    out: Out = None,
    name: Name = None,
    overrides: Overrides = None,
) -> None:
    """Masks (PNG per class), an RLE CSV and overlays for new images; no masks needed."""
    from faultcli.services.common import start_run
    from faultcli.services.evaluate import checkpoint_config
    from faultcli.services.segment_eval import predict_folder

    state, cfg = checkpoint_config(checkpoint, None, overrides)
    if state.get("task") != "segmentation":
        from faultcli.errors import CheckpointError

        raise CheckpointError(
            f"{checkpoint} is a {state.get('task')} checkpoint; segment predict needs one "
            "written by faultcli segment train"
        )
    with start_run("segment-predict", cfg, name or Path(checkpoint).parent.parent.name, out) as run:
        summary = predict_folder(state, cfg, source, run, con.ConsoleReporter())
    rows = [["images", summary["n_images"]], ["images with a defect", summary["images_with_defect"]]]
    rows += [[f"images with {c}", n] for c, n in summary["images_per_class"].items()]
    con.print_table("segment predict", ["figure", "value"], rows)
    con.console.print(f"run folder: [bold]{run.path}[/]", highlight=False)
