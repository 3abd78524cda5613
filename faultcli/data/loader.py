"""Batches straight from memory-mapped arrays: one vectorised fetch per batch, no per-sample Python.

Shuffling draws from torch's global generator, which the engine re-seeds every epoch, so a resumed
run sees the same batches as an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

Fetch = Callable[[np.ndarray], dict[str, Any]]


class BatchLoader:
    """Iterates ``fetch(rows)`` over ``rows`` in batches; optionally shuffled or class-balanced."""

    def __init__(
        self,
        rows: np.ndarray,
        fetch: Fetch,
        batch_size: int,
        *,
        shuffle: bool = False,
        labels: np.ndarray | None = None,
        balanced: bool = False,
        drop_last: bool = False,
    ) -> None:
        self.rows, self.fetch, self.batch_size = np.asarray(rows), fetch, batch_size
        self.shuffle, self.balanced, self.drop_last = shuffle, balanced, drop_last
        self.weights = None
        if balanced:
            if labels is None:
                raise ValueError("a balanced loader needs labels")
            counts = np.bincount(labels)
            self.weights = torch.as_tensor(1.0 / counts[labels], dtype=torch.float64)

    def __len__(self) -> int:
        n = len(self.rows)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.rows)
        if self.weights is not None:
            return torch.multinomial(self.weights, n, replacement=True).numpy()
        if self.shuffle:
            return torch.randperm(n).numpy()
        return np.arange(n)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        order = self._order()
        for b in range(len(self)):
            picked = order[b * self.batch_size : (b + 1) * self.batch_size]
            yield self.fetch(self.rows[picked])
