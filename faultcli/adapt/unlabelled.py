"""Folders of unlabelled recordings (a pretraining pool's extra folders, an adaptation target), read,
resampled, preprocessed and windowed exactly as the recipe's data; no label rule is applied.

Each file's rate must be known (stated by the file, or a ``data.rate_patterns`` entry) or stated by the
caller: an unlabelled folder gets no assumed rate. Windows are ordered by the content of their recording
(its SHA-1), not its name, so renaming files changes nothing that trains on them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from faultcli.config.schema import DataConfig
from faultcli.data.vibration import VibrationDataset, prepare_vibration
from faultcli.errors import DataError
from faultcli.progress import Reporter

# a rate pattern that matches no path: with it, a file of unknown rate is an error instead of an assumption
_NO_PATH = "(?!)"


def read_unlabelled(
    d: DataConfig, root: str, include: list[str], rate: int, reporter: Reporter, key: str, rate_key: str
) -> VibrationDataset:
    """The recordings under ``root`` (``include`` globs, relative to it; empty = every readable file) as the
    recipe ``d`` reads its own. ``rate`` (Hz, 0 = ``data.source_rate``) is the rate of files that state
    none; ``key`` and ``rate_key`` name the recipe keys of the folder and that rate in errors. Unreadable
    files are skipped and listed."""
    folder = Path(root).expanduser()
    if not folder.is_dir():
        raise DataError(f"{key} = {root!r} is not a folder (relative paths start at {Path.cwd()}); fix {key}")
    unlabelled = dataclasses.replace(
        d,
        root=str(folder),
        include=list(include),
        exclude=[],
        label_from="prefix",  # every file gets some name-derived tag; nothing reads it
        label_regex="",
        label_map={},
        classes=[],
        allow_missing_classes=True,
        split="recording-time",
        fractions=[1.0, 0.0, 0.0],
        split_paths={},
        train_conditions=[],
        test_conditions=[],
        fold=-1,
        source_rate=rate or d.source_rate,
        rate_patterns=dict(d.rate_patterns) or {_NO_PATH: 1},
    )
    try:
        return prepare_vibration(unlabelled, reporter, evaluating=True)
    except DataError as err:
        message = str(err).replace("--set data.source_rate=HZ", f"--set {rate_key}=HZ")
        raise DataError(f"{key} = {root}: {message}") from None


def content_order(ds: VibrationDataset, rows: np.ndarray) -> np.ndarray:
    """``rows`` sorted by (recording SHA-1, part, window start): independent of file names."""
    rows = np.asarray(rows, dtype=np.int64)
    rec = ds.windows[rows, 0]
    table = ds.recordings.set_index("recording")
    sha = table.loc[rec, "sha1"].astype(str).to_numpy()
    part = np.array([p if isinstance(p, str) else "" for p in table.loc[rec, "part"]])
    order = np.lexsort((ds.windows[rows, 1], part, sha))
    return rows[order]


def unlabelled_fetch(ds: VibrationDataset, mean: float, std: float) -> Callable[[np.ndarray], dict[str, Any]]:
    """rows → {"x", "extra"} normalised with the recipe's training statistics; no "y"."""

    def fetch(rows: np.ndarray) -> dict[str, Any]:
        x = (np.asarray(ds.signals_for(rows), dtype=np.float32) - mean) / std
        rpm = np.asarray(ds.rpm_for(rows), dtype=np.float32)
        return {"x": torch.from_numpy(x).unsqueeze(1), "extra": {"rpm": torch.from_numpy(rpm)}}

    return fetch


def recordings_manifest(ds: VibrationDataset, rows: np.ndarray, source: str) -> list[dict[str, Any]]:
    """One entry per recording that ``rows`` use: file, part, SHA-1, windows, and which source it came from."""
    rec, counts = np.unique(ds.windows[np.asarray(rows, dtype=np.int64), 0], return_counts=True)
    table = ds.recordings.set_index("recording")
    out = []
    for r, n in zip(rec, counts, strict=True):
        part = table.loc[r, "part"]
        out.append(
            {
                "source": source,
                "root": ds.manifest["root"],
                "file": str(table.loc[r, "file"]),
                "part": "" if not isinstance(part, str) else part,
                "sha1": str(table.loc[r, "sha1"]),
                "windows": int(n),
            }
        )
    return out
