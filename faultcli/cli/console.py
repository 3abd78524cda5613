"""The only rich Console, the progress reporter for terminals, and the error → exit-code mapping."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

console = Console()
err_console = Console(stderr=True)

state = {"debug": False}


class _RichTask:
    def __init__(self, progress: Progress, task_id: Any) -> None:
        self.progress, self.task_id = progress, task_id

    def advance(self, n: int = 1, **fields: Any) -> None:
        info = "  ".join(f"{k} {_fmt(v)}" for k, v in fields.items())
        self.progress.update(self.task_id, advance=n, info=info)


class _PlainTask:
    """Without a terminal: one log line per completed unit at most every few seconds, and at the end."""

    def __init__(self, description: str, total: int | None) -> None:
        self.description, self.total, self.done, self.last = description, total, 0, 0.0

    def advance(self, n: int = 1, **fields: Any) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last > 10 or self.done == self.total:
            self.last = now
            info = "  ".join(f"{k} {_fmt(v)}" for k, v in fields.items())
            of = f"/{self.total}" if self.total else ""
            line = f"{self.description} {self.done}{of} {info}".rstrip()
            console.print(line, highlight=False, markup=False, soft_wrap=True)


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


class ConsoleReporter:
    """Rich progress bars on a terminal; plain log lines when stdout is not one."""

    def __init__(self) -> None:
        self.interactive = console.is_terminal

    @contextlib.contextmanager
    def task(self, description: str, total: int | None) -> Iterator[Any]:
        if not self.interactive:
            yield _PlainTask(description, total)
            return
        columns = [
            TextColumn("{task.description}", style="bold", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[info]}", markup=False),
        ]
        with Progress(*columns, console=console, transient=False) as progress:
            yield _RichTask(progress, progress.add_task(description, total=total, info=""))

    def info(self, message: str) -> None:
        # notes and warnings quote paths and values: text, never markup (a name such as "[/x]" prints as is)
        console.print(message, highlight=False, markup=False, soft_wrap=True)


def print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=Text(title))
    for i, name in enumerate(columns):
        table.add_column(Text(name), justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*[Text(_fmt(v)) for v in row])
    console.print(table)


def print_config(cfg: Any) -> None:
    """The fully resolved recipe, as --print-config shows it."""
    from faultcli.config import dump_toml

    console.print(dump_toml(cfg), highlight=False, markup=False)


def print_summary(
    title: str, summary: dict, keys: tuple[str, ...], run_path: Any, extra_rows: list[list[Any]] | None = None
) -> None:
    """A run's headline figures (those of ``keys`` it has) and where its folder is."""
    rows = [[k, summary[k]] for k in keys if k in summary] + (extra_rows or [])
    print_table(title, ["figure", "value"], rows)
    print_path("run folder", run_path)


def print_path(label: str, path: Any) -> None:
    """``label: path`` with the path in bold, printed as text (brackets in a folder name stay as they are)."""
    console.print(Text.assemble(f"{label}: ", (str(path), "bold")), highlight=False, soft_wrap=True)


def report_error(message: str) -> None:
    """One red line on stderr: what went wrong and what to do."""
    # the message is text, not markup: a path or value with brackets must print as it is
    err_console.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False, soft_wrap=True)
