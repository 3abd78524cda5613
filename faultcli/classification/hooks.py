"""Classification hooks shared by vibration windows and images.

A batch is a dict: ``x`` (input), ``y`` (class indices) and ``extra`` (model keyword inputs such as
``rpm`` or ``edge``). What differs between data kinds (the augmentation) is passed in as a function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from faultcli.engine.engine import Engine
from faultcli.engine.hooks import StepContext, TaskHooks
from faultcli.engine.schedules import piecewise
from faultcli.metrics import quick_figures
from faultcli.models.base import ModelOutput
from faultcli.signal.augment import mixup

# (x, extra, epoch, generator) -> (x, extra); runs on the batch's device
Augment = Callable[[torch.Tensor, dict[str, torch.Tensor], int, torch.Generator], tuple[torch.Tensor, dict]]


class ClassificationHooks(TaskHooks):
    """Loss = classification loss (focal / CE) + w(epoch) · ArcFace CE, with optional mixup."""

    train_metrics = {"loss": "min", "acc": "max"}
    val_metrics = {"loss": "min", "acc": "max", "macro_f1": "max"}

    def __init__(
        self,
        loss_fn: nn.Module,
        num_classes: int,
        *,
        arcface_weight: list[list[float]] | None = None,
        mixup_alpha: float = 0.0,
        mixup_prob: float = 0.5,
        augment: Augment | None = None,
        seed: int = 0,
    ) -> None:
        self.loss_fn, self.num_classes = loss_fn, num_classes
        self.arcface_weight = arcface_weight or []
        self.mixup_alpha, self.mixup_prob, self.augment, self.seed = mixup_alpha, mixup_prob, augment, seed
        self.generator = torch.Generator()
        self.current_arcface = 0.0

    def on_epoch_start(self, engine: Engine, epoch: int) -> None:
        self.generator.manual_seed(self.seed * 7919 + epoch)
        self.current_arcface = piecewise(self.arcface_weight, epoch)

    def training_step(self, model: nn.Module, batch: dict[str, Any], ctx: StepContext) -> tuple[torch.Tensor, dict]:
        loss, figures, _ = self.forward_loss(model, batch, ctx)
        return loss, figures

    def forward_loss(
        self, model: nn.Module, batch: dict[str, Any], ctx: StepContext
    ) -> tuple[torch.Tensor, dict, ModelOutput]:
        """``training_step`` with the model's output beside it: domain adaptation aligns its features."""
        x, y, extra = batch["x"], batch["y"], dict(batch.get("extra", {}))
        if self.augment is not None:
            x, extra = self.augment(x, extra, ctx.epoch, self.generator)
        targets, margin_labels = y, y
        if self.mixup_alpha > 0 and float(torch.rand(1, generator=self.generator)) < self.mixup_prob:
            # inputs mix; model inputs in `extra` (rpm, edge maps) stay with each sample
            x, targets = mixup(x, F.one_hot(y, self.num_classes).float(), self.mixup_alpha, self.generator)
            margin_labels = targets.argmax(1)  # ArcFace needs one label: each mixed sample's dominant one
        # a model whose last read-outs read the batch as loaded (no augmentation, no mixup) gets it as
        # `clean`; those read-outs learn by plain cross-entropy, as a linear model of invariant features is
        # trained alone. Every read-out is trained by its own loss; the prediction combines them.
        out = model(
            x,
            full=True,
            clean=batch["x"],
            margin_labels=margin_labels if self.current_arcface > 0 else None,
            **extra,
        )
        augmented = len(out.readouts) - out.clean_readouts
        loss = sum(self.loss_fn(part, targets) for part in out.readouts[:augmented])
        loss = loss + sum(F.cross_entropy(part, y) for part in out.readouts[augmented:])
        if out.margin_logits is not None:
            loss = loss + self.current_arcface * F.cross_entropy(out.margin_logits, margin_labels)
        acc = (out.logits.argmax(1) == y).float().mean().item()
        return loss, {"acc": acc}, out

    def validation_step(self, model: nn.Module, batch: dict[str, Any], name: str = "") -> dict[str, torch.Tensor]:
        logits = model(batch["x"], **batch.get("extra", {}))
        return {"logits": logits.float(), "y": batch["y"]}

    def validation_metrics(self, collected: dict[str, torch.Tensor], name: str = "") -> dict[str, float]:
        logits, y = collected["logits"], collected["y"]
        loss = F.cross_entropy(logits, y).item()
        return {"loss": loss, **quick_figures(y.numpy(), logits.numpy())}

    def state_dict(self) -> dict[str, Any]:
        return {"current_arcface": self.current_arcface}
