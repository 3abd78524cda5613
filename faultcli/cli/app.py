"""Root Typer app: global options, command registration, and the one place errors become exit codes."""

from __future__ import annotations

import os
import signal
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


_stopped_by = ["Ctrl-C"]


def _terminated(signum: int, frame: object) -> None:
    _stopped_by[0] = "SIGTERM"
    raise KeyboardInterrupt


def main() -> None:
    from faultcli.errors import UserError

    _register()
    # SIGTERM ends a command as Ctrl-C does: one line, not a silent exit (training stops at a step instead)
    signal.signal(signal.SIGTERM, _terminated)
    rank = os.environ.get("RANK", "0")
    if rank != "0":  # under torchrun only the main process prints
        con.console.quiet = con.err_console.quiet = True
    try:
        app()
    except SystemExit as err:
        # Typer turns KeyboardInterrupt into exit code 130 before it reaches this function
        if err.code == 130 and isinstance(err.__context__, typer.Exit | KeyboardInterrupt) and rank == "0":
            con.report_error(f"interrupted by {_stopped_by[0]}; files already written are kept")
        raise
    except UserError as err:
        if con.state["debug"]:
            raise
        con.report_error(str(err))
        sys.exit(getattr(err, "exit_code", 2))
    except KeyboardInterrupt:
        con.report_error(f"interrupted by {_stopped_by[0]}; files already written are kept")
        sys.exit(130)
    except Exception as err:
        if rank == "0" or con.state["debug"]:
            raise
        # the main process reports the cause; another process says in one line that it stopped too
        print(f"faultcli process {rank}: stopped with the others ({type(err).__name__})", file=sys.stderr)
        sys.exit(1)
