"""A prepared vibration dataset folder, loaded back: recordings table, window index, signals read by window.

The folder format is the contract in docs/architecture.md ("Prepared datasets"); ``data/vibration.py``
writes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from faultcli.data import cache
from faultcli.data.splits import SPLITS
from faultcli.errors import DataError


@dataclass
class VibrationDataset:
    """A prepared dataset folder: recordings table, window index and memory-mapped signals."""

    path: Path
    manifest: dict[str, Any]
    recordings: pd.DataFrame
    windows: np.ndarray  # int64 (N, 4): recording, start, class_index, split (or fold)
    signals: np.ndarray  # float32 1-D, memory-mapped (for random access; batches read through ``spans``)
    cache_hit: bool = False
    spans: cache.NpySpans | None = None  # the same samples, read without mapping them

    def __post_init__(self) -> None:
        self._offsets = self.recordings["offset"].to_numpy(dtype=np.int64)

    @classmethod
    def load(cls, folder: Path) -> VibrationDataset:
        folder = Path(folder)
        if not (folder / "manifest.json").is_file():
            raise DataError(f"{folder} is not a prepared vibration dataset (no manifest.json); run faultcli prep")
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        recordings = pd.read_csv(folder / "recordings.csv").sort_values("recording", ignore_index=True)
        windows = np.load(folder / "windows.npy")
        signals = np.load(folder / "signals.npy", mmap_mode="r")
        spans = cache.NpySpans(folder / "signals.npy")
        return cls(folder, manifest, recordings, windows, signals, spans=spans)

    @property
    def classes(self) -> list[str]:
        return list(self.manifest["classes"])

    @property
    def window(self) -> int:
        return int(self.manifest["window"])

    def _fold(self, fold: int | None) -> int:
        return int(self.manifest.get("fold", 0) if fold is None else fold)

    def indices(self, split: str, fold: int | None = None) -> np.ndarray:
        """Window rows of ``split`` (train, val, test, all). kfold: test = fold k, val = k+1, train = rest."""
        codes = self.windows[:, 3]
        if split == "all":
            return np.arange(len(self.windows))
        if split not in SPLITS:
            raise ValueError(f"split must be one of train, val, test, all; got {split!r}")
        if self.manifest["split"] != "kfold":
            return np.flatnonzero(codes == SPLITS.index(split))
        k, folds = self._fold(fold), int(self.manifest["folds"])
        held = {"test": [k], "val": [(k + 1) % folds]}
        if split == "train":
            return np.flatnonzero(~np.isin(codes, [k, (k + 1) % folds]))
        return np.flatnonzero(np.isin(codes, held[split]))

    def norm(self, fold: int | None = None) -> tuple[float, float]:
        """(mean, std) of the training windows (of ``fold`` for kfold)."""
        if self.manifest["split"] == "kfold":
            stats = self.manifest["norm_folds"][self._fold(fold)]
        else:
            stats = self.manifest["norm"]
        return float(stats["mean"]), float(stats["std"])

    def signals_for(self, rows: np.ndarray) -> np.ndarray:
        """Raw (not normalised) float32 windows, shape (n, window)."""
        w = self.windows[np.asarray(rows, dtype=np.int64)]
        starts = self._offsets[w[:, 0]] + w[:, 1]
        if self.spans is not None:  # read, not mapped: pages read stay out of this process's resident memory
            return self.spans.windows(starts, self.window)
        return np.asarray(self.signals[starts[:, None] + np.arange(self.window)], dtype=np.float32)

    def labels_for(self, rows: np.ndarray) -> np.ndarray:
        return self.windows[np.asarray(rows, dtype=np.int64), 2]

    def recording_for(self, rows: np.ndarray) -> np.ndarray:
        return self.windows[np.asarray(rows, dtype=np.int64), 0]

    def rpm_for(self, rows: np.ndarray) -> np.ndarray:
        rpm = self.recordings["rpm"].to_numpy(dtype=np.float32)
        return rpm[self.recording_for(rows)]

    def speed_note(self, nominal_rpm: float) -> str | None:
        """What order normalisation assumes, for the log: recordings that state no shaft speed (neither the
        file nor ``data.speed_regex``) are read at ``nominal_rpm``; None when every recording states one."""
        missing = int(self.recordings["rpm"].isna().sum())
        if not missing:
            return None
        return (
            f"{missing} of {len(self.recordings)} recording(s) state no shaft speed: order normalisation reads them "
            f"at vibration.nominal_rpm = {nominal_rpm:g} rpm (state it with data.speed_regex)"
        )
