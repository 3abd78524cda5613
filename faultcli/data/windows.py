"""Sliding windows cut inside segments, so that no window crosses a split boundary; the statistics of a
set of windows from one streaming pass over the signal."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# samples per piece of the streaming pass (about 40 MB of buffers)
CHUNK = 1 << 20

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


def window_sums(
    read: Callable[[int, int], np.ndarray], total: int, starts: np.ndarray, window: int, chunk: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per window, the float64 sum and sum of squares of its samples, in the order of ``starts``.

    ``read(start, count)`` returns samples of the concatenated signal (``total`` samples). Each sum is the
    difference of two float64 running sums (the prefix sums of the signal), carried from piece to piece so
    that the figures equal those of the prefix sums of the whole signal held at once; only one piece of
    ``chunk`` samples and seven numbers per window are held.
    """
    chunk = chunk or CHUNK
    starts = np.asarray(starts, dtype=np.int64)
    # one sort serves both ends of every window: ends = starts + window keep the order
    order = np.argsort(starts, kind="stable")
    first = starts[order]
    at = {key: np.empty(starts.size, dtype=np.float64) for key in ("lo", "hi", "lo2", "hi2")}
    carry = carry2 = 0.0
    for lo in range(0, total + 1, chunk):
        hi = min(lo + chunk, total)
        # prefix sums at positions lo … hi, the first one carried over from the previous piece
        cs = np.empty(hi - lo + 1, dtype=np.float64)
        cs[0], cs[1:] = carry, read(lo, hi - lo)
        cs2 = np.empty_like(cs)
        cs2[0], cs2[1:] = carry2, cs[1:] * cs[1:]
        np.cumsum(cs, out=cs)
        np.cumsum(cs2, out=cs2)
        for offset, key in ((0, "lo"), (window, "hi")):
            a, b = np.searchsorted(first, lo - offset, "left"), np.searchsorted(first, hi - offset, "right")
            at[key][order[a:b]] = cs[first[a:b] + offset - lo]
            at[key + "2"][order[a:b]] = cs2[first[a:b] + offset - lo]
        carry, carry2 = float(cs[-1]), float(cs2[-1])
        if hi == total:
            break
    at["hi"] -= at["lo"]
    at["hi2"] -= at["lo2"]
    return at["hi"], at["hi2"]


def window_norm(sums: np.ndarray, squares: np.ndarray, window: int) -> dict[str, float]:
    """Mean and std over every sample of the windows whose ``window_sums`` are given (overlaps counted as
    often as they occur); a constant signal gets std 1."""
    if len(sums) == 0:
        return {"mean": 0.0, "std": 1.0}
    n = len(sums) * window
    mean = sums.sum() / n
    var = max(squares.sum() / n - mean * mean, 0.0)
    return {"mean": float(mean), "std": float(np.sqrt(var)) or 1.0}
