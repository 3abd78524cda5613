"""How processes share training: wrap the model, shard loaders, reduce figures, and say which process
writes. One process is ``SingleProcess`` (every method the identity); under torchrun it is
``Distributed`` (engine/distributed.py) with the same methods. ``current()`` is the one of this process."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch import nn


class SingleProcess:
    """One process, one device: every method is the identity."""

    is_main = True  # only the main process writes files, logs and progress
    rank = 0
    world_size = 1

    def device(self, device: torch.device) -> torch.device:
        return device

    def prepare(self, model: nn.Module, sync_batchnorm: bool) -> nn.Module:
        """The model before its optimiser is built (SyncBatchNorm layers under torchrun)."""
        return model

    def wrap(self, model: nn.Module) -> nn.Module:
        """The module whose ``forward`` training calls (DDP's wrapper under torchrun)."""
        return model

    def shard(self, loader: Iterable[Any], pad: bool = True) -> Iterable[Any]:
        """This process's share of a loader's batches (``pad``: every process gets as many, for training)."""
        return loader

    def no_sync(self, model: nn.Module, skip: bool) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()

    def sync_gradients(self, modules: list[nn.Module]) -> None:
        """Average gradients of modules trained outside the wrapped model."""

    def gather(self, collected: dict[str, torch.Tensor], loader: Any = None) -> dict[str, torch.Tensor]:
        """Validation outputs of every process, so figures cover the whole split."""
        return collected

    def mean_figures(self, sums: dict[str, float], count: int) -> dict[str, float]:
        return {k: v / max(count, 1) for k, v in sums.items()}

    def any_of(self, *flags: bool) -> tuple[bool, ...]:
        """Each flag: whether it holds on any process (a non-finite loss, a stop signal), in one exchange."""
        return tuple(bool(f) for f in flags)

    def broadcast(self, value: Any) -> Any:
        """The main process's value (a run folder, an early-stopping decision), the same on every process."""
        return value

    @contextlib.contextmanager
    def main_first(self) -> Iterator[None]:
        yield

    def describe(self) -> str:
        return "1 process"


_current: SingleProcess | None = None


def current() -> SingleProcess:
    """This process's strategy: ``Distributed`` when torchrun started more than one process."""
    global _current
    if _current is None:
        from faultcli.engine.distributed import launched_world

        rank, world, local_rank = launched_world()
        if world > 1:
            from faultcli.engine.distributed import Distributed

            _current = Distributed(rank, world, local_rank)
        else:
            _current = SingleProcess()
    return _current
