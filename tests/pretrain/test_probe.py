"""The k-NN probe: its figure, the epochs it runs at, and a validation loader that costs nothing between."""

from __future__ import annotations

import numpy as np
import torch

from faultcli.pretrain.probe import ProbeLoader, knn_accuracy, probe_figures
from faultcli.pretrain.task import probe_epochs


def test_knn_accuracy_reads_cosine_neighbours():
    bank = np.array([[1.0, 0.0], [2.0, 0.1], [0.0, 1.0], [0.1, 3.0]])
    y = np.array([0, 0, 1, 1])
    query = np.array([[5.0, 0.2], [0.2, 5.0], [3.0, 0.0]])  # scale does not matter, direction does
    assert knn_accuracy(bank, y, query, np.array([0, 1, 0]), k=1) == 1.0
    assert knn_accuracy(bank, y, query, np.array([1, 1, 0]), k=1) == 2 / 3


def test_probe_runs_first_every_nth_and_last():
    assert probe_epochs(5, 12) == {0, 4, 9, 11}
    assert probe_epochs(1, 3) == {0, 1, 2}
    assert probe_epochs(0, 12) == set()


def test_the_probe_loader_tags_the_bank_and_is_empty_when_not_due():
    due = {"now": False}
    bank = [{"x": torch.zeros(2, 1, 8), "y": torch.tensor([0, 1])}]
    query = [{"x": torch.ones(3, 1, 8), "y": torch.tensor([1, 1, 0])}]
    loader = ProbeLoader(bank, query, lambda: due["now"])
    assert len(loader) == 0 and list(loader) == []
    due["now"] = True
    batches = list(loader)
    assert [b["bank"].tolist() for b in batches] == [[1, 1], [0, 0, 0]]
    feats = torch.tensor([[1.0, 0], [0, 1.0], [0, 2.0], [0, 3.0], [4.0, 0]])
    collected = {"feats": feats, "y": torch.tensor([0, 1, 1, 1, 0]), "bank": torch.tensor([1, 1, 0, 0, 0])}
    assert probe_figures(collected, k=1) == {"knn_acc": 1.0}
    assert probe_figures({}, k=1) == {}
