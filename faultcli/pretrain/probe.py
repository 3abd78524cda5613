"""How good the encoder's features are while it pretrains: k-nearest-neighbour accuracy (cosine) of labelled
query windows (val during training, test at the end) against labelled train windows, the encoder frozen."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

BANK_WINDOWS = 4000  # at most this many train windows to compare with: the probe stays cheap


def bank_rows(train_rows: np.ndarray, seed: int) -> np.ndarray:
    """The train windows the probe compares with: all, or an evenly seeded sample of ``BANK_WINDOWS``."""
    if len(train_rows) <= BANK_WINDOWS:
        return np.asarray(train_rows)
    return np.sort(np.random.default_rng(seed).choice(train_rows, BANK_WINDOWS, replace=False))


def knn_accuracy(bank: np.ndarray, bank_y: np.ndarray, query: np.ndarray, query_y: np.ndarray, k: int) -> float:
    """Share of ``query`` rows whose k nearest ``bank`` rows (cosine) vote for their own class."""
    from sklearn.neighbors import KNeighborsClassifier

    knn = KNeighborsClassifier(n_neighbors=min(k, len(bank)), metric="cosine")
    knn.fit(bank, bank_y)
    return float((knn.predict(query) == query_y).mean())


class ProbeLoader:
    """Validation batches for the probe: the bank's (tagged ``bank`` = 1), then the queries'; nothing on
    epochs ``due()`` says no to, so the engine's validation costs nothing there."""

    def __init__(self, bank: Any, query: Any, due: Callable[[], bool]) -> None:
        self.bank, self.query, self.due = bank, query, due

    def __len__(self) -> int:
        return len(self.bank) + len(self.query) if self.due() else 0

    def apply(self, wrap: Callable[[Any], Any]) -> ProbeLoader:
        """The same probe over wrapped loaders (each process's share under torchrun)."""
        return ProbeLoader(wrap(self.bank), wrap(self.query), self.due)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if not self.due():
            return
        for flag, loader in ((1, self.bank), (0, self.query)):
            for batch in loader:
                yield {**batch, "bank": torch.full((len(batch["x"]),), flag, dtype=torch.int64)}


def probe_figures(collected: dict[str, torch.Tensor], k: int) -> dict[str, float]:
    """The k-NN accuracy of collected (feats, y, bank) validation outputs; {} when the probe did not run."""
    if not collected:
        return {}
    feats, y, bank = collected["feats"].numpy(), collected["y"].numpy(), collected["bank"].numpy().astype(bool)
    return {"knn_acc": knn_accuracy(feats[bank], y[bank], feats[~bank], y[~bank], k)}


@torch.no_grad()
def encode(model: nn.Module, batch: dict[str, Any]) -> torch.Tensor:
    """The encoder's features of a batch (``forward_features`` through the model's one forward)."""
    return model(batch["x"], full=True, **batch.get("extra", {})).features.float()
