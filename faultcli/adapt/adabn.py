"""AdaBN as the post-fit step of ``adapt.method = "adabn"``: the chosen model's BatchNorm statistics are
recomputed on the target windows (no label, no weight changes) and stored in best.pt, so evaluation and
prediction use them."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from faultcli.adapt.target import Target
from faultcli.models.adabn import adapt_batchnorm
from faultcli.progress import Reporter


def adabn_step(model: nn.Module, target: Target, batch_size: int, device: torch.device, reporter: Reporter) -> dict:
    """Adapt ``model`` in place; returns what best.pt gains: the adapted weights and the windows seen."""
    seen = adapt_batchnorm(model, target.loader(batch_size, train=False), device)
    if seen == 0:
        reporter.info("AdaBN: the model has no BatchNorm layer; nothing to adapt")
        return {"adabn_windows": 0}
    reporter.info(f"AdaBN: BatchNorm statistics recomputed on {seen} target windows")
    weights: dict[str, Any] = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return {"model": weights, "adabn_windows": seen}
