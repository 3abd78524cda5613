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

from faultcli.engine.engine import Engine, TaskHooks
from faultcli.engine.schedules import piecewise
from faultcli.metrics import quick_figures
from faultcli.signal.augment import mixup

# (x, extra, epoch, generator) -> (x, extra); runs on the batch's device
Augment = Callable[[torch.Tensor, dict[str, torch.Tensor], int, torch.Generator], tuple[torch.Tensor, dict]]


class ClassificationHooks(TaskHooks):
    """Loss = classification loss (focal / CE) + w(epoch) · ArcFace CE, with optional mixup."""

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

    def training_step(self, model: nn.Module, batch: dict[str, Any], epoch: int) -> tuple[torch.Tensor, dict]:
        x, y, extra = batch["x"], batch["y"], dict(batch.get("extra", {}))
        if self.augment is not None:
            x, extra = self.augment(x, extra, epoch, self.generator)
        targets, margin_labels = y, y
        if self.mixup_alpha > 0 and float(torch.rand(1, generator=self.generator)) < self.mixup_prob:
            # inputs mix; model inputs in `extra` (rpm, edge maps) stay with each sample
            x, targets = mixup(x, F.one_hot(y, self.num_classes).float(), self.mixup_alpha, self.generator)
            margin_labels = targets.argmax(1)  # ArcFace needs one label: each mixed sample's dominant one
        # the model's last `clean_readouts` read-outs read the batch as loaded (no augmentation, no mixup)
        # and learn by plain cross-entropy, as a linear model of invariant features is trained alone
        clean = int(getattr(model, "clean_readouts", 0))
        if clean:
            extra["clean"] = batch["x"]
        features = model.forward_features(x, **extra)
        # a model with several read-outs (multimodal with a wide one) trains each by its own loss and
        # predicts by its combine_readouts
        parts = model.head_logits(features) if hasattr(model, "head_logits") else [model.forward_head(features)]
        augmented = len(parts) - clean
        loss = sum(self.loss_fn(part, targets) for part in parts[:augmented])
        loss = loss + sum(F.cross_entropy(part, y) for part in parts[augmented:])
        arcface = getattr(model, "arcface", None)
        if self.current_arcface > 0 and arcface is not None:
            margin_in = model.margin_features(features) if hasattr(model, "margin_features") else features
            loss = loss + self.current_arcface * F.cross_entropy(arcface(margin_in, margin_labels), margin_labels)
        logits = parts[0] if len(parts) == 1 else model.combine_readouts(parts)
        acc = (logits.argmax(1) == y).float().mean().item()
        return loss, {"acc": acc}

    def validation_step(self, model: nn.Module, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        logits = model(batch["x"], **batch.get("extra", {}))
        return {"logits": logits.float(), "y": batch["y"]}

    def validation_metrics(self, collected: dict[str, torch.Tensor]) -> dict[str, float]:
        logits, y = collected["logits"], collected["y"]
        loss = F.cross_entropy(logits, y).item()
        return {"loss": loss, **quick_figures(y.numpy(), logits.numpy())}

    def state_dict(self) -> dict[str, Any]:
        return {"current_arcface": self.current_arcface}
