"""Run folders and atomic writes: every run has its own folder, and a file is either whole or absent."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from faultcli.errors import UserError


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _jsonable(value: Any) -> Any:
    # numpy scalars and arrays, paths: everything a summary may hold
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n")


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path for a writer that needs a file name (np.save, savefig, torch.save)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one line; a line is written with a single call so a crash never leaves half a record."""
    line = json.dumps(record, sort_keys=True, default=_jsonable) + "\n"
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()


@dataclass
class Run:
    """One run's folder: resolved config, log, summary, metrics and outputs."""

    path: Path
    logger: logging.Logger

    def file(self, *parts: str) -> Path:
        target = self.path.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write_json(self, name: str, obj: Any) -> Path:
        target = self.file(name)
        atomic_write_json(target, obj)
        return target

    def write_summary(self, summary: dict[str, Any]) -> Path:
        return self.write_json("summary.json", summary)

    def log_metrics(self, record: dict[str, Any]) -> None:
        append_jsonl(self.file("metrics.jsonl"), record)


def point_latest(run_dir: Path) -> None:
    """Make ``<parent>/latest`` point at ``run_dir`` (swapped atomically), for scripts and README commands."""
    link = run_dir.parent / "latest"
    tmp = run_dir.parent / f".latest.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    os.symlink(run_dir.name, tmp)
    os.replace(tmp, link)


def new_run_dir(command: str, name: str, out: Path | None = None, root: Path = Path("runs")) -> Path:
    """``runs/<command>/<name>-<YYYYmmdd-HHMMSS>`` (or ``out``); never an existing folder."""
    if out is not None:
        out = Path(out)
        if out.exists():
            raise UserError(f"--out {out} already exists; choose a new folder so no earlier run is overwritten")
        return out
    if not name or name != Path(name).name or name in (".", "..") or len(name) > 100:
        raise UserError(
            f"run name {name!r} is not a plain folder name; use letters, digits, '-' or '_' (at most 100), "
            "or --out DIR for an exact folder"
        )
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = root / command / f"{name}-{stamp}"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def make_logger(path: Path) -> logging.Logger:
    logger = logging.getLogger(f"faultcli.run.{path}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = logging.FileHandler(path / "run.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    return logger


def close_logger(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        handler.close()
        logger.removeHandler(handler)


@contextlib.contextmanager
def open_run(path: Path, config_toml: str) -> Iterator[Run]:
    """Create the run folder with its resolved config; remove it again if the run fails on bad input.

    A run that fails on a ``UserError`` leaves nothing behind. Any other failure (a crash, Ctrl-C)
    keeps the folder, since its log and last checkpoints are what the user needs to look at.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.mkdir()
    logger = make_logger(path)
    run = Run(path=path, logger=logger)
    try:
        atomic_write_text(path / "config.toml", config_toml)
        yield run
    except UserError as err:
        close_logger(logger)
        if not getattr(err, "keep_run", False):
            shutil.rmtree(path, ignore_errors=True)
        raise
    except BaseException:
        logger.exception("run failed")
        close_logger(logger)
        raise
    else:
        close_logger(logger)
