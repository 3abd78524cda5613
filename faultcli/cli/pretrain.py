"""`faultcli pretrain`: pretrain a vibration recipe's encoder (NT-Xent, SupCon, masked reconstruction),
optionally followed by a finetune of another recipe from it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from faultcli.cli import console as con
from faultcli.cli.app import app
from faultcli.cli.options import Name, Out, Overrides, PrintConfig, Recipe, Resume

SUMMARY_KEYS = (
    "method",
    "pool_windows",
    "pool_unlabelled",
    "best_epoch",
    "best_val_knn_acc",
    "test_knn_accuracy",
    "test_accuracy",
    "test_macro_f1",
    "init_loaded",
    "train_seconds",
    "params",
)

ThenFinetune = Annotated[
    Optional[Path],
    typer.Option("--then-finetune", help="Then finetune this recipe from the pretrained encoder (one run folder)."),
]
FinetuneSet = Annotated[
    Optional[list[str]],
    typer.Option("--finetune-set", help="Override a key of the --then-finetune recipe (repeatable)."),
]


@app.command(rich_help_panel="Train")
def pretrain(
    recipe: Recipe = None,
    overrides: Overrides = None,
    then_finetune: ThenFinetune = None,
    finetune_overrides: FinetuneSet = None,
    name: Name = None,
    out: Out = None,
    print_config: PrintConfig = False,
    resume: Resume = None,
) -> None:
    """Pretrain a vibration recipe's encoder on its train windows (pretrain.method: ntxent, supcon or masked)."""
    from faultcli.services.common import resolve_config, start_run
    from faultcli.services.pretrain import check_pretrain, pretrain_config
    from faultcli.services.pretrain import pretrain as run_pretrain

    if resume is not None:  # one pretraining stage, continued in its own folder
        from faultcli.errors import UserError
        from faultcli.services.resume import resume_run

        if then_finetune is not None:
            raise UserError("--resume continues the pretraining stage alone; run --then-finetune's finetune after it")
        summary, path = resume_run(resume, overrides or [], con.ConsoleReporter(), run_pretrain)
        con.print_summary("pretrain (resumed)", summary, SUMMARY_KEYS, path)
        return

    cfg = pretrain_config(resolve_config(recipe, overrides))
    finetune = resolve_config(then_finetune, finetune_overrides) if then_finetune is not None else None
    if print_config:
        con.print_config(cfg)
        return
    check_pretrain(cfg, finetune)  # before the run folder exists
    with start_run("pretrain", cfg, name, out) as run:
        summary = run_pretrain(cfg, run, con.ConsoleReporter(), finetune)
    stage = summary.get("pretrain", {})  # empty in the processes torchrun starts beside the main one
    rows = [[f"pretrain {k}", stage[k]] for k in ("best_epoch", "test_knn_accuracy") if k in stage]
    con.print_summary("pretrain" + (" + finetune" if finetune else ""), summary, SUMMARY_KEYS, run.path, rows)
