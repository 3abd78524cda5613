"""Vibration file readers: one registered function per format, each returning the recordings a file holds.

A reader is ``fn(path, *, channel, csv_layout) -> list[RawRecording]``, registered with
``@register("reader", "<format>")``. It raises ``DataError`` naming the file for anything unreadable.
Image readers live beside these but are imported by the image data layer, not here. ``find_files``
picks the files under a root that a recipe reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import numpy as np

from faultcli.errors import ConfigError, DataError
from faultcli.registry import lookup

# extension → reader name, for data.format = "auto"
EXTENSIONS = {".mat": "mat", ".csv": "csv", ".xlsx": "xlsx", ".npy": "npy"}
VIBRATION_FORMATS = tuple(sorted(set(EXTENSIONS.values())))
# formats whose multi-column files (csv_layout = columns) hold one window of one recording per column,
# columns in time order (the Bearing-CLIP layout); each column is a recording whose ``part`` names it
WINDOW_PER_COLUMN = ("csv", "xlsx")


@dataclass
class RawRecording:
    """One signal as a file stores it, before resampling."""

    signal: np.ndarray  # 1-D float64
    part: str = ""  # which part of a multi-recording file ("col3", "row0"); "" for single-signal files
    rate: float | None = None  # sampling rate when the file says so
    rpm: float | None = None  # shaft speed when the file says so
    sensor: str | None = None  # channel read (e.g. "DE")


Reader = Callable[..., list[RawRecording]]


def check_real_values(values: np.ndarray, path: Path, what: str) -> None:
    """Refuse arrays that are not real numbers (text, objects, booleans, complex: a cast would drop parts)."""
    kind = values.dtype.kind
    if kind not in "iuf":
        name = "complex" if kind == "c" else str(values.dtype)
        raise DataError(f"{path}: {what} holds {name} values, not real numbers; save a real numeric array")


def reader_for(fmt: str) -> Reader:
    """The registered vibration reader for ``fmt`` (mat, csv, xlsx, npy)."""
    # importing the modules registers them; done lazily so `import faultcli.data` stays light
    from faultcli.data.readers import csv, mat, npy, xlsx  # noqa: F401

    return lookup("reader", fmt)


def format_of(path: Path) -> str | None:
    """The reader name for a file's extension, or None when no vibration reader handles it."""
    return EXTENSIONS.get(Path(path).suffix.lower())


def is_window_piece(fmt: str | None, part: str) -> bool:
    """Whether a recording read with reader ``fmt`` is one window of a pre-windowed file (a column of a
    columns-layout table), rather than a whole recording."""
    return fmt in WINDOW_PER_COLUMN and bool(part)


def find_files(root: Path, fmt: str, include: list[str], exclude: list[str]) -> list[Path]:
    """Readable files under ``root`` (sorted). ``include``/``exclude``: fnmatch globs on the relative path.

    With ``fmt`` = auto, files are picked by extension; with an explicit format and ``include`` patterns,
    every included file is read with that reader (e.g. ``*.txt`` as csv).
    """
    if fmt not in ("auto", *VIBRATION_FORMATS):
        raise ConfigError(
            f"data.format = {fmt!r} is for image data; use auto, {', '.join(VIBRATION_FORMATS)} "
            "for vibration recordings"
        )
    if not root.exists():
        raise DataError(
            f"data.root {root} does not exist (relative paths start at {Path.cwd()}); "
            "set data.root to the folder holding the recordings"
        )
    candidates = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    base = root.parent if root.is_file() else root
    out = []
    for path in candidates:
        rel = path.relative_to(base).as_posix()
        if any(part.startswith(".") for part in Path(rel).parts):
            continue
        if include and not any(fnmatch(rel, pat) for pat in include):
            continue
        if any(fnmatch(rel, pat) for pat in exclude):
            continue
        kind = format_of(path)
        # auto: known extensions only; a named format: its extension, or any file include picks out
        wanted = kind is not None if fmt == "auto" else kind == fmt or (kind is None and bool(include))
        if wanted:
            out.append(path)
    if not out:
        exts = ", ".join(sorted(EXTENSIONS))
        raise DataError(
            f"data.root {root} holds no readable files ({exts}); check data.root, data.include and data.format"
        )
    return out
