"""Where a distributed strategy plugs in: wrap the model, shard loaders, reduce figures, and say which
process writes. Single-process training is the only strategy for now; a DistributedDataParallel one
implements the same five methods."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn


class SingleProcess:
    """One process, one device: every method is the identity."""

    is_main = True  # only the main process writes files, logs and progress
    world_size = 1

    def wrap(self, model: nn.Module) -> nn.Module:
        """The module whose ``forward`` training calls (DDP's wrapper under torchrun)."""
        return model

    def unwrap(self, model: nn.Module) -> nn.Module:
        return model

    def shard(self, loader: Iterable[Any]) -> Iterable[Any]:
        """This process's share of a loader's batches."""
        return loader

    def gather(self, collected: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Validation outputs of every process, so figures cover the whole split."""
        return collected

    def all_finite(self, value: float) -> bool:
        """Whether the loss is finite on every process (one non-finite loss stops them all)."""
        return bool(torch.isfinite(torch.tensor(value)))
