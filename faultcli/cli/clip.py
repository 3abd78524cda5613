"""`faultcli clip train | eval`: vibration windows and class descriptions in one embedding space."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from faultcli.cli import console as con
from faultcli.cli.app import app
from faultcli.cli.finetune import SUMMARY_KEYS
from faultcli.cli.options import Name, Out, Overrides, PrintConfig, Recipe, Resume

clip_app = typer.Typer(
    help="Vibration–text models: classes recognised by their descriptions, zero-shot classes, adapters.",
    no_args_is_help=True,
)
app.add_typer(clip_app, name="clip", rich_help_panel="Train")

CLIP_KEYS = (*SUMMARY_KEYS, "test_zsl_accuracy", "test_gzsl_h", "gzsl_gamma", "trainable_params")


@clip_app.command("train")
def train(
    recipe: Recipe = None,
    overrides: Overrides = None,
    name: Name = None,
    out: Out = None,
    print_config: PrintConfig = False,
    resume: Resume = None,
) -> None:
    """Align windows with class prompts (clip.mode = align), or tune adapters (and text LoRA) on an aligned
    model (clip.mode = adapter, train.init = the align run); `faultcli finetune` on a clip recipe, with the
    calibrated-stacking γ and the text LoRA's parameter counts in the summary."""
    from faultcli.cli.finetune import train_recipe

    train_recipe("clip", recipe, overrides, name, out, print_config, resume, "clip", CLIP_KEYS)


@clip_app.command("eval")
def evaluate(
    checkpoint: Annotated[Path, typer.Option("--checkpoint", "-c", help="A clip run folder or its checkpoint.")],
    prompts: Annotated[
        list[str] | None,
        typer.Option(
            "--prompt",
            "-p",
            help="'class: description', repeatable: classify among these descriptions instead of the trained "
            "ones (classes may be new; the data must be labelled with them).",
        ),
    ] = None,
    prompt_file: Annotated[
        Path | None, typer.Option("--prompt-file", help="A file of 'class: description' lines.")
    ] = None,
    recipe: Recipe = None,
    overrides: Overrides = None,
    name: Name = None,
    out: Out = None,
    split: Annotated[str, typer.Option(help="test, val, train or all.")] = "test",
) -> None:
    """Classify each window by its most similar class description: the figures and files of `faultcli eval`,
    the zero-shot figures of a zero-shot run, and the prompts used."""
    from faultcli.errors import UserError
    from faultcli.services.clip import clip_eval_config
    from faultcli.services.common import start_run
    from faultcli.services.evaluate import run_eval

    if split not in ("test", "val", "train", "all"):
        raise UserError(f"--split {split!r} is not a split; choose test, val, train or all")
    reporter = con.ConsoleReporter()
    state, cfg = clip_eval_config(checkpoint, prompts or [], prompt_file, recipe, overrides, reporter)
    with start_run("clip-eval", cfg, name or cfg.name or "clip-eval", out) as run:
        summary = run_eval(state, cfg, split, run, reporter)
    con.print_summary(f"clip eval ({split})", summary, CLIP_KEYS, run.path)
