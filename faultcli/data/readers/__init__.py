"""Vibration file readers: one registered function per format, each returning the recordings a file holds.

A reader is ``fn(path, *, channel, csv_layout) -> list[RawRecording]``, registered with
``@register("reader", "<format>")``. It raises ``DataError`` naming the file for anything unreadable.
Image readers live beside these but are imported by the image data layer, not here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faultcli.registry import lookup

# extension → reader name, for data.format = "auto"
EXTENSIONS = {".mat": "mat", ".csv": "csv", ".xlsx": "xlsx", ".npy": "npy"}
VIBRATION_FORMATS = tuple(sorted(set(EXTENSIONS.values())))


@dataclass
class RawRecording:
    """One signal as a file stores it, before resampling."""

    signal: np.ndarray  # 1-D float64
    part: str = ""  # which part of a multi-recording file ("col3", "row0"); "" for single-signal files
    rate: float | None = None  # sampling rate when the file says so
    rpm: float | None = None  # shaft speed when the file says so
    sensor: str | None = None  # channel read (e.g. "DE")


Reader = Callable[..., list[RawRecording]]


def reader_for(fmt: str) -> Reader:
    """The registered vibration reader for ``fmt`` (mat, csv, xlsx, npy)."""
    # importing the modules registers them; done lazily so `import faultcli.data` stays light
    from faultcli.data.readers import csv, mat, npy, xlsx  # noqa: F401

    return lookup("reader", fmt)


def format_of(path: Path) -> str | None:
    """The reader name for a file's extension, or None when no vibration reader handles it."""
    return EXTENSIONS.get(Path(path).suffix.lower())
