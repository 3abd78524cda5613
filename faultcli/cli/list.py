"""`faultcli list KIND`: the models, branches, tasks, losses and recipes a recipe can name."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from faultcli.cli import console as con
from faultcli.cli.app import app


@app.command("list", rich_help_panel="Inspect")
def list_names(
    kind: Annotated[
        str,
        typer.Argument(
            help="models, branches, fusions, edge-fusions, heads, tasks, losses or recipes.", show_default=False
        ),
    ],
    folder: Annotated[
        Optional[Path], typer.Option("--dir", help="Recipe folder to list (default: ./recipes, else the shipped one).")
    ] = None,
) -> None:
    """List what recipes can name (registered models, branches, tasks, losses) or the shipped recipes."""
    from rich.table import Table
    from rich.text import Text

    from faultcli.services.catalog import RECIPES, list_kind

    listing = list_kind(kind.lower(), folder)
    if not listing.entries:
        con.console.print(listing.note, highlight=False, markup=False, soft_wrap=True)
        return
    recipes = listing.kind == RECIPES
    title = f"recipes in {listing.source}" if recipes else f"{listing.kind} (registry kind {listing.source!r})"
    table = Table(title=title, title_justify="left")
    table.add_column("recipe" if recipes else "name", no_wrap=True, style="bold")
    table.add_column("description")
    for e in listing.entries:
        text = Text(e.description)
        if recipes:  # task and parent on a line of their own, so narrow terminals keep the description readable
            parent = f", extends {e.extra['extends']}" if e.extra["extends"] else ""
            text.append(f"\n{e.extra['task']}{parent}", style="dim")
        table.add_row(e.name, text)
    con.console.print(table, highlight=False)
