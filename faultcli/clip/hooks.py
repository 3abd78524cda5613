"""Training hooks of the vibration–text model: the class-aware contrastive loss over the seen classes."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from faultcli.classification.hooks import ClassificationHooks
from faultcli.clip.loss import class_aware_infonce
from faultcli.engine.hooks import StepContext


class ClipHooks(ClassificationHooks):
    """Loss = symmetric class-aware InfoNCE between the batch's windows and the class texts.

    ``seen`` lists the class indices training may look at: in a zero-shot recipe the unseen classes'
    texts are neither positives nor negatives, and validation (model selection) scores the seen ones only.
    """

    def __init__(self, num_classes: int, *, seen: list[int], augment=None, seed: int = 0) -> None:
        super().__init__(nn.Identity(), num_classes, augment=augment, seed=seed)
        self.seen = torch.tensor(seen)
        remap = torch.full((num_classes,), -1, dtype=torch.long)
        remap[self.seen] = torch.arange(len(seen))
        self.remap = remap

    def _restrict(self, logits: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return logits[:, self.seen.to(logits.device)], self.remap.to(y.device)[y]

    def training_step(self, model: nn.Module, batch: dict[str, Any], ctx: StepContext) -> tuple[torch.Tensor, dict]:
        x, extra = batch["x"], dict(batch.get("extra", {}))
        if self.augment is not None:
            x, extra = self.augment(x, extra, ctx.epoch, self.generator)
        out = model(x, full=True, **extra)
        logits, y = self._restrict(out.logits, batch["y"])
        acc = (logits.argmax(1) == y).float().mean().item()
        return class_aware_infonce(logits, y), {"acc": acc}

    def validation_step(self, model: nn.Module, batch: dict[str, Any], name: str = "") -> dict[str, torch.Tensor]:
        out = super().validation_step(model, batch, name)
        logits, y = self._restrict(out["logits"], out["y"])
        return {"logits": logits, "y": y}
