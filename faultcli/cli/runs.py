"""`faultcli runs table | show`: compare run folders (e.g. after an ablation loop), or look at one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from faultcli.cli import console as con
from faultcli.cli.app import app

runs_app = typer.Typer(help="Compare finished runs, or show one run's figures and files.", no_args_is_help=True)
app.add_typer(runs_app, name="runs", rich_help_panel="Inspect")

FileOut = Optional[Path]


@runs_app.command("table")
def table(
    folders: Annotated[list[Path], typer.Argument(help="Run folders, or folders holding run folders.")],
    json_out: Annotated[FileOut, typer.Option("--json", help="Also write every run's summary here (JSON).")] = None,
    csv_out: Annotated[FileOut, typer.Option("--csv", help="Also write one row per run here (CSV).")] = None,
    md_out: Annotated[FileOut, typer.Option("--md", help="Also write the table here (Markdown).")] = None,
) -> None:
    """One table of the runs under FOLDERS: headline figures, the settings that differ, train seconds."""
    from faultcli.services.runs import collect, table_markdown, write_table

    result = collect(folders)
    # Markdown, never wrapped: wide ablation tables stay readable and paste into notes as they are
    con.console.print(table_markdown(result), highlight=False, markup=False, soft_wrap=True, end="")
    if not result.differing and len(result.runs) > 1:
        con.console.print("the runs' resolved configs are identical", highlight=False)
    for path in result.unfinished:
        con.console.print(f"left out (no summary.json, unfinished or failed): {path}", highlight=False, markup=False)
    for path in write_table(result, json_out, csv_out, md_out):
        con.console.print(f"wrote {path}", highlight=False, markup=False, soft_wrap=True)


@runs_app.command("show")
def show(run: Annotated[Path, typer.Argument(help="A run folder, e.g. runs/finetune/latest.")]) -> None:
    """A run's figures, recipe and where its plots, report and checkpoints are."""
    from faultcli.services.runs import show_run

    detail = show_run(run)
    rows = [[k, v] for k, v in detail.figures.items()]
    if rows:
        con.print_table(f"summary of {run}", ["figure", "value"], rows)
    else:
        state = "no summary.json: unfinished or failed" if not detail.finished else "summary has no figures"
        con.console.print(f"{run}: {state} ({detail.epochs_logged} epochs logged)", highlight=False, markup=False)
    for key, value in detail.recipe.items():
        con.console.print(f"{key}: {value}", highlight=False, markup=False)
    for label, paths in (("report", detail.reports), ("plot", detail.plots), ("checkpoint", detail.checkpoints)):
        for path in paths:
            con.console.print(f"{label}: {run / path}", highlight=False, markup=False, soft_wrap=True)
