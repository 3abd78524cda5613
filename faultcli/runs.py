"""Run folders and atomic writes: every run has its own folder, and a file is either whole or absent."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from faultcli.errors import UserError

# file systems without fsync for a file or a folder (some network and FUSE mounts, Windows folders)
_NO_SYNC = {errno.EINVAL, errno.ENOTSUP, errno.EBADF, errno.EACCES, errno.EPERM, errno.EISDIR}
_NAME_LIMIT = 100  # bytes of a run name; the folder adds a time stamp


class RunWriteError(UserError):
    """A run file that could not be written (disk full, no permission). What was written before is kept."""

    keep_run = True


def write_error(path: Path, err: OSError) -> RunWriteError:
    """One line naming the file, the system's reason and what to do."""
    code = err.errno
    reason = os.strerror(code) if code else str(err)
    name = errno.errorcode.get(code, "") if code else ""
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        fix = "free disk space, then continue a training run with --resume RUN (its last good checkpoint is kept)"
    elif code in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = "choose a writable folder (--out DIR) or fix the folder's permissions"
    else:
        fix = "check the disk and the folder, then run again"
    return RunWriteError(f"cannot write {path}: {reason}{f' ({name})' if name else ''}; {fix}")


def _fsync(fd: int) -> None:
    try:
        os.fsync(fd)
    except OSError as err:
        if err.errno not in _NO_SYNC:
            raise


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable where the OS allows opening a folder (not Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        _fsync(fd)
    finally:
        os.close(fd)


def _tmp_of(path: Path) -> Path:
    # one fixed name per target: a temporary file left by a killed process is replaced by the next write
    return path.with_name(f".{path.name}.tmp")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, fsync, rename: readers never see half a file, and a crash
    (or a full disk) leaves the previous version in place. An ``OSError`` becomes a one-line RunWriteError."""
    path = Path(path)
    with _replacing(path, _tmp_of(path)) as tmp:
        # O_EXCL: never write through a link someone left at the temporary name
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)


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
    """Yield a temporary path for a writer that needs a file name (np.save, savefig, torch.save); on success
    it is fsynced and renamed onto ``path``. An ``OSError`` (of the writer too) becomes a RunWriteError."""
    path = Path(path)
    with _replacing(path, path.with_name(f".{path.stem}.tmp{path.suffix}")) as tmp:
        yield tmp


@contextlib.contextmanager
def _replacing(path: Path, tmp: Path) -> Iterator[Path]:
    """The steps around a writer of ``tmp``: make the folder and clear a stale ``tmp``; after the writer,
    fsync ``tmp``, rename it onto ``path`` and fsync the folder. ``tmp`` never outlives the call."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        yield tmp
        fd = os.open(tmp, os.O_RDWR if os.name == "nt" else os.O_RDONLY)  # Windows syncs writable handles only
        try:
            _fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as err:
        raise write_error(path, err) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one line with a single write; a write that fails part-way is cut back, so the file holds
    whole lines only."""
    data = (json.dumps(record, sort_keys=True, default=_jsonable) + "\n").encode("utf-8")
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as err:
        raise write_error(path, err) from None
    try:
        size = os.fstat(fd).st_size
        try:
            if os.write(fd, data) != len(data):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            _fsync(fd)
        except OSError as err:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
            raise write_error(path, err) from None
    finally:
        os.close(fd)


@dataclass
class Run:
    """One run's folder: resolved config, log, summary, metrics and outputs."""

    path: Path
    logger: logging.Logger

    def file(self, *parts: str) -> Path:
        """A path inside the run folder (its parent folders made); ``..`` or an absolute part is refused."""
        for part in parts:
            if Path(part).is_absolute() or ".." in Path(part).parts:
                raise UserError(f"output {part!r} would leave the run folder {self.path}; use a plain relative name")
        target = self.path.joinpath(*parts)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise write_error(target.parent, err) from None
        return target

    def write_json(self, name: str, obj: Any) -> Path:
        target = self.file(name)
        atomic_write_json(target, obj)
        return target

    def write_summary(self, summary: dict[str, Any]) -> Path:
        return self.write_json("summary.json", summary)

    def log_metrics(self, record: dict[str, Any]) -> None:
        append_jsonl(self.file("metrics.jsonl"), record)


def _ours(link: Path) -> bool:
    """Whether ``link`` is a ``latest`` link faultcli made: a symbolic link to a sibling folder's name."""
    if not link.is_symlink():
        return False
    target = os.readlink(link)
    return bool(target) and target not in (".", "..") and "/" not in target and "\\" not in target


def point_latest(run_dir: Path, warn: Callable[[str], None] | None = None) -> bool:
    """Make ``<parent>/latest`` point at ``run_dir`` (swapped atomically), for scripts and README commands.

    Only a link faultcli made is replaced: a user's file, folder or link elsewhere named ``latest`` is left
    alone, and so is a file system without symbolic links; then ``warn`` (default: the run's log) says so and
    the result is False."""
    run_dir = Path(run_dir)
    link = run_dir.parent / "latest"
    say = warn or (lambda message: _append_log(run_dir, message))
    if os.path.lexists(link) and not _ours(link):
        say(f"{link} is not a link faultcli made; left as it is (the run is {run_dir})")
        return False
    tmp = run_dir.parent / f".latest.{os.getpid()}.tmp"
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        os.symlink(run_dir.name, tmp)
        os.replace(tmp, link)
    except OSError as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        say(f"could not point {link} at {run_dir.name} ({err.strerror or err})")
        return False
    return True


def _append_log(run_dir: Path, message: str) -> None:
    with contextlib.suppress(OSError), open(run_dir / "run.log", "a", encoding="utf-8") as handle:
        handle.write(f"{datetime.now():%Y-%m-%d %H:%M:%S} WARNING {message}\n")


def check_run_name(name: str) -> str:
    """A run name is one plain folder name: no separator, no ``..``, at most 100 bytes."""
    plain = bool(name) and name not in (".", "..") and not any(c in name for c in "/\\\0")
    if not plain or name != Path(name).name or len(name.encode("utf-8")) > _NAME_LIMIT:
        raise UserError(
            f"run name {name!r} (--name or the recipe's name) is not a plain folder name; use letters, digits, "
            f"'-' or '_' (at most {_NAME_LIMIT}), or --out DIR for an exact folder"
        )
    return name


def check_out(out: Path) -> Path:
    """``--out``: a new folder that can be made where it is asked for; anything else is a one-line error."""
    out = Path(out)
    full = Path(os.path.abspath(out))
    existing = next(p for p in (full, *full.parents) if os.path.lexists(p))  # lexists: False on any OSError
    try:
        name_max = os.pathconf(existing if existing.is_dir() else existing.parent, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        name_max = 255
    long = [p for p in full.parts if len(p.encode("utf-8")) > name_max]
    if long or len(str(full).encode("utf-8")) >= 4096:
        shown = (long[0] if long else str(full))[:40] + "…"
        raise UserError(f"--out {shown} is longer than this file system allows ({name_max} bytes); use a shorter name")
    if os.path.islink(out):
        what = "a symbolic link to a missing target" if not out.exists() else "a symbolic link"
        raise UserError(f"--out {out} is {what}; choose a new folder so nothing else is overwritten")
    if existing == full:
        raise UserError(f"--out {out} already exists; choose a new folder so no earlier run is overwritten")
    if existing.is_symlink() and not existing.exists():
        raise UserError(f"--out {out} is under {existing}, a symbolic link to a missing target; choose another folder")
    if not existing.is_dir():
        raise UserError(f"--out {out} is under {existing}, which is a file; choose a folder path")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"--out {out}: {existing} is read-only for you; choose a writable folder")
    return out


def new_run_dir(command: str, name: str, out: Path | None = None, root: Path = Path("runs")) -> Path:
    """``runs/<command>/<name>-<YYYYmmdd-HHMMSS>`` (or ``out``); never an existing folder."""
    if out is not None:
        return check_out(out)
    check_run_name(name)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = root / command / f"{name}-{stamp}"
    candidate, n = base, 1
    while os.path.lexists(candidate):
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


class _QuietFileHandler(logging.FileHandler):
    # a full disk must not print a logging traceback on every line; the next run-file write reports it
    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        pass


def make_logger(path: Path) -> logging.Logger:
    logger = logging.getLogger(f"faultcli.run.{path}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        handler = _QuietFileHandler(path / "run.log", encoding="utf-8")
    except OSError as err:
        raise write_error(path / "run.log", err) from None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    return logger


def close_logger(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        handler.close()
        logger.removeHandler(handler)


def make_run_folder(path: Path) -> list[Path]:
    """Create ``path`` (which must be new) and its missing parents; returns the folders made, deepest first."""
    made = [p for p in (path, *path.parents) if not os.path.lexists(p)]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        remove_run_folder(path, made)
        raise write_error(path.parent, err) from None
    try:
        path.mkdir()
    except FileExistsError:
        raise UserError(f"{path} already exists; choose a new folder so no earlier run is overwritten") from None
    except OSError as err:
        remove_run_folder(path, made)
        raise write_error(path, err) from None
    return made


def remove_run_folder(path: Path, made: list[Path]) -> None:
    """Remove the run folder and the parents it made (if nothing else has appeared in them since); a folder
    this run did not make is never touched."""
    if path in made:
        shutil.rmtree(path, ignore_errors=True)
    for folder in made:
        if folder != path:
            with contextlib.suppress(OSError):
                folder.rmdir()


@contextlib.contextmanager
def open_run(path: Path, config_toml: str) -> Iterator[Run]:
    """Create the run folder with its resolved config; remove it again if the run fails on bad input.

    A run that fails on a ``UserError`` leaves nothing behind (nor the parent folders it made). A full disk
    or another write error during the run, a crash or Ctrl-C keep the folder, since its log and last
    checkpoints are what the user needs to look at or resume from.
    """
    path = Path(path)
    made = make_run_folder(path)
    logger = logging.getLogger(f"faultcli.run.{path}")
    try:
        logger = make_logger(path)
        atomic_write_text(path / "config.toml", config_toml)
    except UserError:
        close_logger(logger)
        remove_run_folder(path, made)
        raise
    run = Run(path=path, logger=logger)
    try:
        yield run
    except UserError as err:
        if getattr(err, "keep_run", False):
            logger.error("%s", err)
        close_logger(logger)
        if not getattr(err, "keep_run", False):
            remove_run_folder(path, made)
        raise
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM outside training: the log says so, without a traceback
        logger.warning("run interrupted")
        close_logger(logger)
        raise
    except BaseException:
        logger.exception("run failed")
        close_logger(logger)
        raise
    else:
        close_logger(logger)
