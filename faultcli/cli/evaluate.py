"""`faultcli eval`: a checkpoint (or an ensemble) on a split of its data or on another labelled folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from faultcli.cli import console as con
from faultcli.cli.app import app
from faultcli.cli.finetune import SUMMARY_KEYS
from faultcli.cli.options import Name, Out, Overrides, PrintConfig, Recipe


@app.command("eval", rich_help_panel="Evaluate")
def evaluate(
    checkpoints: Annotated[
        list[Path],
        typer.Option(
            "--checkpoint",
            "-c",
            help="A checkpoint file, or a run folder (its checkpoints/best.pt). Repeat it to evaluate an "
            "ensemble (e.g. one run per seed): the members' probabilities are averaged; the first one's "
            "recipe names the data.",
        ),
    ],
    recipe: Recipe = None,
    overrides: Overrides = None,
    name: Name = None,
    out: Out = None,
    split: Annotated[str, typer.Option(help="test, val, train or all.")] = "test",
    print_config: PrintConfig = False,
) -> None:
    """Evaluate a checkpoint on a split of its data, or on another labelled folder (--set data.root=...)."""
    from faultcli.errors import UserError
    from faultcli.services.common import start_run
    from faultcli.services.evaluate import checkpoint_config, load_checkpoint_or_run, run_eval

    if split not in ("test", "val", "train", "all"):
        raise UserError(f"--split {split!r} is not a split; choose test, val, train or all")
    state, cfg = checkpoint_config(checkpoints[0], recipe, overrides)
    members = [load_checkpoint_or_run(path) for path in checkpoints[1:]]
    if print_config:
        con.print_config(cfg)
        return
    with start_run("eval", cfg, name or cfg.name or "eval", out) as run:
        summary = run_eval(state, cfg, split, run, con.ConsoleReporter(), members)
    con.print_summary(f"eval ({split})", summary, SUMMARY_KEYS, run.path)
