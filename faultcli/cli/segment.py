"""`faultcli segment train | predict`: defect segmentation with smp models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from faultcli.cli import console as con
from faultcli.cli.app import app
from faultcli.cli.options import Name, Out, Overrides, PrintConfig, Recipe, Resume

segment_app = typer.Typer(help="Pixel masks of defects: train smp models, predict masks.", no_args_is_help=True)
app.add_typer(segment_app, name="segment", rich_help_panel="Train")


@segment_app.command("train")
def train(
    recipe: Recipe = None,
    overrides: Overrides = None,
    name: Name = None,
    out: Out = None,
    print_config: PrintConfig = False,
    resume: Resume = None,
) -> None:
    """Train a segmentation model from a recipe, tune thresholds on val, evaluate on test
    (the same as `faultcli finetune` on a segmentation recipe)."""
    from faultcli.cli.finetune import train_recipe

    train_recipe("segment", recipe, overrides, name, out, print_config, resume)


@segment_app.command("predict")
def predict(
    checkpoint: Annotated[
        Path, typer.Option("--checkpoint", "-c", help="A segmentation run folder or its checkpoints/best.pt.")
    ],
    source: Annotated[Path, typer.Option("--input", "-i", help="An image or a folder of images.")],
    out: Out = None,
    name: Name = None,
    overrides: Overrides = None,
) -> None:
    """Masks (PNG per class), an RLE CSV and overlays for new images; no masks needed."""
    from faultcli.errors import CheckpointError
    from faultcli.services.common import start_run
    from faultcli.services.evaluate import checkpoint_config, run_segment_predict

    state, cfg = checkpoint_config(checkpoint, None, overrides)
    if state.get("task") != "segmentation":  # before the run folder exists
        raise CheckpointError(
            f"{checkpoint} is a {state.get('task')} checkpoint; segment predict needs one "
            "written by faultcli segment train"
        )
    with start_run("segment-predict", cfg, name or cfg.name or "segment-predict", out) as run:
        summary = run_segment_predict(state, cfg, source, run, con.ConsoleReporter())
    rows = [["images", summary["n_images"]], ["images with a defect", summary["images_with_defect"]]]
    rows += [[f"images with {c}", n] for c, n in summary["images_per_class"].items()]
    con.print_table("segment predict", ["figure", "value"], rows)
    con.print_path("run folder", run.path)
