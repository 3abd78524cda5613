"""Sliding windows cut inside segments, so that no window crosses a split boundary."""

from __future__ import annotations

import numpy as np

# (lo, hi, split): samples [lo, hi) of a recording belong to split (0/1/2, or a fold number)
Segment = tuple[int, int, int]


def window_starts(lo: int, hi: int, window: int, step: int) -> np.ndarray:
    """Start offsets of every window that fits entirely in ``[lo, hi)``."""
    if hi - lo < window:
        return np.zeros(0, dtype=np.int64)
    return np.arange(lo, hi - window + 1, step, dtype=np.int64)


def cut_windows(segments: list[list[Segment]], window: int, step: int) -> np.ndarray:
    """int64 (N, 3) rows ``recording, start, split`` for the segments of each recording (index = recording)."""
    parts = []
    for recording, segs in enumerate(segments):
        for lo, hi, split in segs:
            starts = window_starts(lo, hi, window, step)
            block = np.empty((starts.size, 3), dtype=np.int64)
            block[:, 0], block[:, 1], block[:, 2] = recording, starts, split
            parts.append(block)
    return np.concatenate(parts) if parts else np.zeros((0, 3), dtype=np.int64)
