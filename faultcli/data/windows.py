"""Sliding windows cut inside segments, so that no window crosses a split boundary; the statistics of a
set of windows from one streaming pass over the signal."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# samples per piece of the streaming pass: 32 MiB of float64 running sums
CHUNK = 1 << 22

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
    ``chunk`` samples and four floats per window are held.
    """
    chunk = chunk or CHUNK
    starts = np.asarray(starts, dtype=np.int64)
    ends = starts + window
    # every prefix-sum position asked for, sorted once so that each piece finds its own by bisection
    wanted = np.concatenate([starts, ends])
    order = np.argsort(wanted, kind="stable")
    sorted_pos = wanted[order]
    at = np.empty(wanted.size, dtype=np.float64)
    at2 = np.empty(wanted.size, dtype=np.float64)
    carry = carry2 = 0.0
    for lo in range(0, total + 1, chunk):
        hi = min(lo + chunk, total)
        x = read(lo, hi - lo).astype(np.float64)
        # prefix sums at positions lo … hi, the first one carried over from the previous piece
        cs = np.cumsum(np.concatenate([[carry], x]))
        cs2 = np.cumsum(np.concatenate([[carry2], x * x]))
        first, last = np.searchsorted(sorted_pos, lo, "left"), np.searchsorted(sorted_pos, hi, "right")
        picked = order[first:last]
        at[picked] = cs[sorted_pos[first:last] - lo]
        at2[picked] = cs2[sorted_pos[first:last] - lo]
        carry, carry2 = float(cs[-1]), float(cs2[-1])
        if hi == total:
            break
    n = starts.size
    return at[n:] - at[:n], at2[n:] - at2[:n]


def window_norm(sums: np.ndarray, squares: np.ndarray, window: int) -> dict[str, float]:
    """Mean and std over every sample of the windows whose ``window_sums`` are given (overlaps counted as
    often as they occur); a constant signal gets std 1."""
    if len(sums) == 0:
        return {"mean": 0.0, "std": 1.0}
    n = len(sums) * window
    mean = sums.sum() / n
    var = max(squares.sum() / n - mean * mean, 0.0)
    return {"mean": float(mean), "std": float(np.sqrt(var)) or 1.0}
