"""Options every recipe-driven command shares, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

Recipe = Annotated[Optional[Path], typer.Option("--recipe", "-r", help="TOML recipe (see recipes/).")]
Overrides = Annotated[
    Optional[list[str]],
    typer.Option("--set", "-s", help="Override a recipe key, value as TOML: --set train.lr=3e-4 (repeatable)."),
]
Name = Annotated[Optional[str], typer.Option("--name", help="Run name (default: the recipe's name).")]
Out = Annotated[Optional[Path], typer.Option("--out", help="Exact run folder; it must not exist yet.")]
PrintConfig = Annotated[bool, typer.Option("--print-config", help="Print the resolved config and exit.")]
Resume = Annotated[
    Optional[Path],
    typer.Option(
        "--resume", help="Continue a run in its own folder from its newest valid checkpoint (last.pt, else best.pt)."
    ),
]
