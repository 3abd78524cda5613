"""AdaBN (Li et al. 2016): adapt a trained network to a new domain by recomputing its BatchNorm statistics
on the new domain's windows; no label and no weight is used or changed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from faultcli.errors import DataError


def _inputs(batch: Any, device: torch.device | str) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """A batch as loaders give it: a tensor, a (x, ...) pair, or a dict with "x" and model inputs in "extra"."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device), {}
    if isinstance(batch, dict):
        extra = {k: v.to(device) for k, v in dict(batch.get("extra", {})).items()}
        return batch["x"].to(device), extra
    if isinstance(batch, list | tuple):
        return batch[0].to(device), {}
    raise TypeError(f"cannot read model inputs from a {type(batch).__name__} batch")


@torch.no_grad()
def adapt_batchnorm(model: nn.Module, batches: Iterable[Any], device: torch.device | str) -> int:
    """Replace every BatchNorm layer's running mean and variance by their cumulative average over ``batches``.

    Only the BatchNorm layers run in train mode; everything else (dropout, augmenting layers) runs in eval
    mode so the statistics describe the inputs the evaluated model sees. The mean is the exact mean over all
    windows when batches are of equal size; the variance is the average of the batches' (unbiased) variances.
    Each layer's momentum and every module's train/eval mode are restored afterwards. ``model`` must already
    be on ``device``. Returns the number of windows seen (0, without reading a batch, if the model has no
    BatchNorm layer that tracks statistics); no window at all is a :class:`DataError`, and the old
    statistics are kept.
    """
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]
    if not norms:
        return 0
    modes = {m: m.training for m in model.modules()}
    saved = [(m.momentum, {k: v.clone() for k, v in m.state_dict().items()}) for m in norms]
    model.eval()
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches
        m.train()
    seen = 0
    try:
        for batch in batches:
            x, extra = _inputs(batch, device)
            model(x, **extra)
            seen += len(x)
    except BaseException:
        _restore_stats(norms, saved)
        raise
    finally:
        for m, (momentum, _) in zip(norms, saved, strict=True):
            m.momentum = momentum
        for m, training in modes.items():
            m.train(training)
    if seen == 0:
        _restore_stats(norms, saved)
        raise DataError("no target windows to adapt the BatchNorm statistics on; check the target data's path")
    return seen


def _restore_stats(norms: list[_BatchNorm], saved: list[tuple[Any, dict[str, torch.Tensor]]]) -> None:
    for m, (_, state) in zip(norms, saved, strict=True):
        m.load_state_dict(state)
