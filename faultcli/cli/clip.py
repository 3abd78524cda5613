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

CLIP_KEYS = (*SUMMARY_KEYS, "test_zsl_accuracy", "test_gzsl_h", "trainable_params")


@clip_app.command("train")
def train(
    recipe: Recipe = None,
    overrides: Overrides = None,
    name: Name = None,
    out: Out = None,
    print_config: PrintConfig = False,
    resume: Resume = None,
) -> None:
    """Align windows with class prompts (clip.mode = align), or tune adapters on an aligned model
    (clip.mode = adapter, train.init = the align run); the same as `faultcli finetune` on a clip recipe."""
    from faultcli.cli.finetune import train_recipe

    train_recipe("clip", recipe, overrides, name, out, print_config, resume, task="clip")


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
    from faultcli.errors import CheckpointError, UserError
    from faultcli.services.clip import read_prompts, reprompt
    from faultcli.services.common import resolve_config, start_run
    from faultcli.services.evaluate import load_checkpoint_or_run, run_eval

    if split not in ("test", "val", "train", "all"):
        raise UserError(f"--split {split!r} is not a split; choose test, val, train or all")
    state = load_checkpoint_or_run(checkpoint)
    if state.get("task") != "clip":
        raise CheckpointError(f"{checkpoint} is a {state.get('task')} checkpoint; clip eval needs a clip run")
    reporter = con.ConsoleReporter()
    if prompts or prompt_file:
        base = resolve_config(None, [], base=dict(state["config"]))
        state = reprompt(state, read_prompts(prompts or [], prompt_file), base, reporter)
    base = dict(state["config"])
    base["data"] = {**base["data"], "classes": list(state["classes"]), "allow_missing_classes": True}
    cfg = resolve_config(recipe, overrides, base=base)
    with start_run("clip-eval", cfg, name or cfg.name or "clip-eval", out) as run:
        summary = run_eval(state, cfg, split, run, reporter)
    con.print_summary(f"clip eval ({split})", summary, CLIP_KEYS, run.path)
