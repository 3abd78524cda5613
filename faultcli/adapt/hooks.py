"""Alignment beside the classification loss, on (source batch, target batch) pairs (``data/paired.py``).

MMD and CORAL pull the model's fused features (``ModelOutput.features``) of the two domains together,
weighted by ``adapt.weight`` × DANN's ramp of training progress (0 at the start, when features are still
noise, to ≈ 1). DANN trains a domain discriminator, a part beside the model, behind a gradient reversal
whose weight follows the same ramp. Validation and selection see the source's validation split only.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from faultcli.engine.hooks import StepContext, TaskHooks
from faultcli.losses.domain import coral, mmd
from faultcli.models.heads import DomainDiscriminator
from faultcli.models.layers.grad_reverse import GradientReversal, dann_weight


class AdaptHooks(TaskHooks):
    """``inner`` (classification hooks with ``forward_loss``) on the source half of each pair, plus the
    ``method``'s alignment term on both halves' features (``width`` wide)."""

    def __init__(self, inner: Any, method: str, weight: float, width: int) -> None:
        if method not in ("mmd", "coral", "dann"):
            raise ValueError(f"unknown alignment {method!r}")
        self.inner, self.method, self.weight = inner, method, weight
        self.train_metrics = {**inner.train_metrics, "align": "min"}
        self.val_metrics = inner.val_metrics
        self.reverse = GradientReversal(0.0)
        self.discriminator = DomainDiscriminator(width) if method == "dann" else None

    def parts(self) -> dict[str, nn.Module]:
        own = {"discriminator": self.discriminator} if self.discriminator is not None else {}
        return {**self.inner.parts(), **own}

    def on_epoch_start(self, engine: Any, epoch: int) -> None:
        self.inner.on_epoch_start(engine, epoch)

    def training_step(self, model: nn.Module, batch: dict[str, Any], ctx: StepContext) -> tuple[torch.Tensor, dict]:
        loss, figures, out = self.inner.forward_loss(model, batch["source"], ctx)
        target = batch["target"]
        target_feats = model(target["x"], full=True, **target.get("extra", {})).features
        ramp = dann_weight(ctx.progress)
        if self.method == "dann":
            self.reverse.weight = ramp * self.weight
            align, accuracy = self._domain_loss(out.features, target_feats)
            figures["domain_acc"] = accuracy
            total = loss + align
        else:
            align = (mmd if self.method == "mmd" else coral)(out.features, target_feats)
            total = loss + ramp * self.weight * align
        return total, {**figures, "align": float(align.detach())}

    def _domain_loss(self, source: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, float]:
        """The discriminator's cross-entropy (source 1, target 0) through the gradient reversal."""
        assert self.discriminator is not None
        logits = self.discriminator(self.reverse(torch.cat([source, target])))
        labels = torch.cat([torch.ones(len(source)), torch.zeros(len(target))]).to(logits.device)
        accuracy = float(((logits > 0).float() == labels).float().mean())
        return F.binary_cross_entropy_with_logits(logits.float(), labels), accuracy

    def validation_step(self, model: nn.Module, batch: Any, name: str = "") -> dict[str, torch.Tensor]:
        return self.inner.validation_step(model, batch, name)

    def validation_metrics(self, collected: dict[str, torch.Tensor], name: str = "") -> dict[str, float]:
        return self.inner.validation_metrics(collected, name)

    def on_validation_end(self, engine: Any, epoch: int, metrics: dict[str, float]) -> None:
        self.inner.on_validation_end(engine, epoch, metrics)

    def state_dict(self) -> dict[str, Any]:
        return self.inner.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.inner.load_state_dict(state)
