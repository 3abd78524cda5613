"""Multi-process training under ``torchrun``: DistributedDataParallel for the model, every process a shard
of each split, figures over the whole split, one process that writes.

torchrun sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``; the process group uses gloo for CPU tensors and
NCCL for CUDA ones. ``train.batch_size`` is per process, as with torchrun everywhere: the effective batch
is batch × processes × ``train.accumulate``.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

from faultcli.engine.strategy import SingleProcess


def launched_world() -> tuple[int, int, int]:
    """(rank, world size, local rank) as torchrun states them; (0, 1, 0) when not under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0"))


class ShardedLoader:
    """One process's share of a ``BatchLoader``: every process draws the same order (the engine seeds each
    epoch alike everywhere) and takes every ``world``-th sample from its rank on. For training (``pad``) the
    order is first padded by repeating its start to a multiple of the world size, as ``DistributedSampler``
    does, so every process takes the same number of steps; for validation it is not, so no sample counts
    twice in the figures."""

    def __init__(self, loader: Any, rank: int, world: int, pad: bool = True) -> None:
        self.loader, self.rank, self.world, self.pad = loader, rank, world, pad
        self.total = len(loader.rows)
        self.per_rank = -(-self.total // world) if pad else len(range(rank, self.total, world))

    def __len__(self) -> int:
        size = self.loader.batch_size
        return self.per_rank // size if self.loader.drop_last else -(-self.per_rank // size)

    def __iter__(self) -> Iterator[Any]:
        order = self.loader._order()
        if self.pad:
            order = np.resize(order, self.per_rank * self.world)
        order = order[self.rank :: self.world]
        # the order is drawn alike on every process; what follows (augmentation, dropout) should not be
        torch.manual_seed((torch.initial_seed() + 1_000_003 * (self.rank + 1)) % 2**63)
        size = self.loader.batch_size
        for b in range(len(self)):
            yield self.loader.fetch(self.loader.rows[order[b * size : (b + 1) * size]])


class Distributed(SingleProcess):
    """The strategy under torchrun (see engine/strategy.py for the interface)."""

    def __init__(self, rank: int, world_size: int, local_rank: int) -> None:
        self.rank, self.world_size, self.local_rank = rank, world_size, local_rank
        self.is_main = rank == 0
        if not dist.is_initialized():
            backend = "cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo"
            dist.init_process_group(backend, timeout=datetime.timedelta(minutes=30))
        self._wrapped: dict[tuple, nn.Module] = {}
        atexit.register(self.close)

    def close(self) -> None:
        """Leave the process group together: a process that tears its connections down while another still
        sends ends in an abort. The others wait here while the main process tests and writes."""
        if not dist.is_initialized():
            return
        with contextlib.suppress(Exception):  # a peer that already failed: torchrun reports that one
            dist.barrier()
        dist.destroy_process_group()

    def device(self, device: torch.device) -> torch.device:
        """A CUDA device becomes this process's GPU (``LOCAL_RANK``)."""
        if device.type != "cuda":
            return device
        torch.cuda.set_device(self.local_rank)
        return torch.device("cuda", self.local_rank)

    def prepare(self, model: nn.Module, sync_batchnorm: bool) -> nn.Module:
        if not sync_batchnorm:
            return model
        if next(model.parameters()).device.type == "cpu":
            from faultcli.errors import ConfigError

            raise ConfigError(
                "train.sync_batchnorm needs GPUs (PyTorch's SyncBatchNorm runs on CUDA only); "
                "set train.sync_batchnorm = false to train on CPU processes"
            )
        return nn.SyncBatchNorm.convert_sync_batchnorm(model)

    def wrap(self, model: nn.Module) -> nn.Module:
        # DDP syncs the parameters that train when it is built: a freeze schedule that unfreezes an encoder
        # needs a new wrapper. Unused parameters (a margin head that is off) are found on every step.
        key = (id(model), tuple(p.requires_grad for p in model.parameters()))
        if key not in self._wrapped:
            self._wrapped = {}
            device_ids = None if next(model.parameters()).device.type == "cpu" else [self.local_rank]
            self._wrapped[key] = nn.parallel.DistributedDataParallel(
                model, device_ids=device_ids, find_unused_parameters=True
            )
        return self._wrapped[key]

    def shard(self, loader: Any, pad: bool = True) -> Any:
        if isinstance(loader, ShardedLoader):
            return loader
        if hasattr(loader, "apply"):  # a loader of loaders (source and target, bank and queries): each is split
            return loader.apply(lambda inner: self.shard(inner, pad))
        return ShardedLoader(loader, self.rank, self.world_size, pad)

    def no_sync(self, model: nn.Module, skip: bool) -> contextlib.AbstractContextManager:
        """Gradients of a micro-batch that is not its step's last stay local (DDP's ``no_sync``)."""
        return model.no_sync() if skip else contextlib.nullcontext()

    def sync_gradients(self, modules: list[nn.Module]) -> None:
        """Average the gradients of modules outside DDP's wrapper (the hooks' heads and discriminators)
        in one all-reduce; every process has gradients for the same parameters, as they run the same code."""
        grads = [p.grad for m in modules for p in m.parameters() if p.grad is not None]
        if not grads:
            return
        flat = _flatten_dense_tensors(grads)
        dist.all_reduce(flat)
        flat /= self.world_size
        for grad, synced in zip(grads, _unflatten_dense_tensors(flat, grads), strict=True):
            grad.copy_(synced)

    def gather(self, collected: dict[str, torch.Tensor], loader: Any = None) -> dict[str, torch.Tensor]:
        """Every process's validation outputs. From one unpadded ``ShardedLoader``, per-sample tensors go back
        into the split's own order (sample ``j * world + r`` came from rank ``r``); otherwise (per-batch
        values, a loader of loaders) the pieces are concatenated rank by rank."""
        parts: list[dict[str, torch.Tensor]] = [{} for _ in range(self.world_size)]
        dist.all_gather_object(parts, collected)
        if not collected:
            return collected
        shard = loader if isinstance(loader, ShardedLoader) and not loader.pad else None
        counts = [len(range(r, shard.total, self.world_size)) for r in range(self.world_size)] if shard else None
        out = {}
        for key, first in collected.items():
            pieces = [p[key] for p in parts]
            if first.dim() == 0:
                out[key] = torch.stack(pieces)
            elif counts is not None and [len(t) for t in pieces] == counts:
                merged = first.new_empty((shard.total, *first.shape[1:]))
                for rank, piece in enumerate(pieces):
                    merged[rank :: self.world_size] = piece
                out[key] = merged
            else:
                out[key] = torch.cat(pieces)
        return out

    def mean_figures(self, sums: dict[str, float], count: int) -> dict[str, float]:
        """Training figures averaged over every process's batches."""
        keys = sorted(sums)
        values = torch.tensor([sums[k] for k in keys] + [float(count)], dtype=torch.float64)
        dist.all_reduce(values)
        total = max(values[-1].item(), 1.0)
        return {k: values[i].item() / total for i, k in enumerate(keys)}

    def any_of(self, *flags: bool) -> tuple[bool, ...]:
        values = torch.tensor([1.0 if f else 0.0 for f in flags])
        dist.all_reduce(values, op=dist.ReduceOp.MAX)
        return tuple(bool(v) for v in values.tolist())

    def broadcast(self, value: Any) -> Any:
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    @contextlib.contextmanager
    def main_first(self) -> Iterator[None]:
        """The main process goes first (e.g. building a shared cache), the others then read what it wrote."""
        if not self.is_main:
            dist.barrier()
        try:
            yield
        finally:
            if self.is_main:
                dist.barrier()

    def describe(self) -> str:
        return f"{self.world_size} processes ({dist.get_backend()})"
