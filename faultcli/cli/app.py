"""Root Typer app: global options, command registration, and the one place errors become exit codes."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from faultcli import __version__
from faultcli.cli import console as con

app = typer.Typer(
    name="faultcli",
    help="Deep-learning fault diagnosis: bearing vibration and steel surface images.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        con.console.print(f"faultcli {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    con.state["debug"] = debug


def _register() -> None:
    # each module adds its own command(s) to `app`; imports stay light (no torch at import time)
    from faultcli.cli import (  # noqa: F401
        clip,
        evaluate,
        export,
        finetune,
        inspect,
        list,
        predict,
        prep,
        pretrain,
        runs,
        segment,
    )


def main() -> None:
    from faultcli.errors import UserError

    _register()
    rank = os.environ.get("RANK", "0")
    if rank != "0":  # under torchrun only the main process prints
        con.console.quiet = con.err_console.quiet = True
    try:
        app()
    except UserError as err:
        if con.state["debug"]:
            raise
        con.report_error(str(err))
        sys.exit(getattr(err, "exit_code", 2))
    except KeyboardInterrupt:
        con.report_error("interrupted")
        sys.exit(130)
    except Exception as err:
        if rank == "0" or con.state["debug"]:
            raise
        # the main process reports the cause; another process says in one line that it stopped too
        print(f"faultcli process {rank}: stopped with the others ({type(err).__name__})", file=sys.stderr)
        sys.exit(1)
