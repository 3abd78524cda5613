"""The pretraining objectives on a batch of windows: NT-Xent and SupCon on two augmented views through a
projection head, and masked-span reconstruction through a decoder. Each returns the loss to minimise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from faultcli.losses.contrastive import nt_xent, supcon
from faultcli.losses.reconstruction import mask_spans, masked_reconstruction_loss

# (x, extra, epoch, generator) -> (x, extra): the recipe's augmentation stage of the epoch
Views = Callable[[torch.Tensor, dict, int, torch.Generator], tuple[torch.Tensor, dict]]


def projected_views(
    model: nn.Module, projection: nn.Module, batch: dict[str, Any], augment: Views, epoch: int, gen: torch.Generator
) -> torch.Tensor:
    """Two independently augmented views of each window through the model and projection head: (B, 2, D).
    Both views go through one forward, so BatchNorm sees them as one batch."""
    x, extra = batch["x"], dict(batch.get("extra", {}))
    first, _ = augment(x, extra, epoch, gen)
    second, _ = augment(x, extra, epoch, gen)
    both = {k: torch.cat([v, v]) for k, v in extra.items()}
    feats = model(torch.cat([first, second]), full=True, **both).features
    z = projection(feats)
    return torch.stack(z.chunk(2), dim=1)


def contrastive_loss(z: torch.Tensor, y: torch.Tensor | None, temperature: float) -> torch.Tensor:
    """NT-Xent of the two views, or (with labels ``y``) the supervised contrastive loss."""
    if y is None:
        return nt_xent(z[:, 0], z[:, 1], temperature)
    return supcon(z, y, temperature)


def masked_loss(
    model: nn.Module, decoder: nn.Module, batch: dict[str, Any], ratio: float, span: int, gen: torch.Generator
) -> torch.Tensor:
    """Hide spans of each window, encode what is left, decode the window; scored on the hidden samples."""
    x = batch["x"]
    hidden, mask = mask_spans(x, ratio, span, gen)
    feats = model(hidden, full=True, **batch.get("extra", {})).features
    return masked_reconstruction_loss(decoder(feats), x, mask)


# the views of a recipe without [[augment]] stages (or before its first): stronger than a classifier's
# augmentation, since two views of one window must differ enough that telling them apart teaches something
DEFAULT_VIEW_STAGE = {
    "noise_std": 0.2,
    "shift": 0.5,
    "scale": 0.3,
    "warp": 0.05,
    "mask": 0.1,
    "eq_db": 6.0,
    "prob": 0.8,
}


def view_augment(stages: list[Any]) -> Views:
    """The recipe's augmentation stage of the epoch, or ``DEFAULT_VIEW_STAGE`` where it has none."""
    from faultcli.engine.schedules import stage_at
    from faultcli.signal.augment import SignalAugment, augment_batch

    def augment(x: torch.Tensor, extra: dict, epoch: int, gen: torch.Generator) -> tuple[torch.Tensor, dict]:
        stage = stage_at(stages, epoch) or DEFAULT_VIEW_STAGE
        return augment_batch(x, SignalAugment.of(stage), gen), extra

    return augment
