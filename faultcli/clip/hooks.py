"""Training hooks of the vibration–text model: the class-aware contrastive loss over the seen classes, and
the calibrated-stacking shift chosen on each validation pass."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from faultcli.classification.hooks import ClassificationHooks
from faultcli.clip.loss import class_aware_infonce
from faultcli.engine.hooks import StepContext


def stacking_models(model: nn.Module) -> list[nn.Module]:
    """The modules of ``model`` (wrapped or not) that hold a calibrated-stacking shift."""
    return [m for m in model.modules() if hasattr(m, "set_gamma")]


class ClipHooks(ClassificationHooks):
    """Loss = symmetric class-aware InfoNCE between the batch's windows and the class texts.

    ``seen`` lists the class indices training may look at: in a zero-shot recipe the unseen classes'
    texts are neither positives nor negatives, and validation (model selection) scores the seen ones only.
    A model that calibrates (``calibration_keep`` > 0, the tuned model of a ``clip.calibration = 'stacking'``
    recipe) gets its calibrated-stacking γ chosen on each validation pass's windows (all of seen classes;
    ``clip.zeroshot.stacking_gamma``), set before the checkpoint is saved, so the selected checkpoint
    carries the γ of its own epoch. The loss and the seen-only validation figures do not depend on γ (it
    shifts every seen score alike).
    """

    def __init__(self, num_classes: int, *, seen: list[int], augment=None, seed: int = 0) -> None:
        super().__init__(nn.Identity(), num_classes, augment=augment, seed=seed)
        self.seen = torch.tensor(seen)
        remap = torch.full((num_classes,), -1, dtype=torch.long)
        remap[self.seen] = torch.arange(len(seen))
        self.remap = remap
        self.calibration_keep, self.scale = 0.0, 1.0  # the model's, read at validation
        self.gamma: float | None = None

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
        calibrating = [m for m in stacking_models(model) if m.calibration_keep > 0]
        if not calibrating:
            return {"logits": logits, "y": y}
        module = calibrating[0]
        self.calibration_keep, self.scale = module.calibration_keep, float(module.logit_scale())
        # the scores before any shift: the one set after the previous pass is added back
        raw = out["logits"] + self.scale * module.gamma.to(out["logits"]) * module.seen_mask.to(out["logits"])
        return {"logits": logits, "y": y, "raw": raw, "label": out["y"]}

    def validation_metrics(self, collected: dict[str, torch.Tensor], name: str = "") -> dict[str, float]:
        figures = super().validation_metrics({"logits": collected["logits"], "y": collected["y"]}, name)
        if self.calibration_keep and "raw" in collected:
            from faultcli.clip.zeroshot import stacking_gamma

            seen = self.seen.tolist()
            chosen = stacking_gamma(collected["raw"].numpy(), collected["label"].numpy(), seen, self.calibration_keep)
            self.gamma = chosen / self.scale  # in units of cosine similarity, as the model keeps it
            figures["gzsl_gamma"] = self.gamma
        return figures

    def on_validation_end(self, engine, epoch: int, metrics: dict[str, float]) -> None:
        super().on_validation_end(engine, epoch, metrics)
        if self.gamma is None:
            return
        for model in {id(m): m for m in (engine.model, engine.eval_model)}.values():
            for module in stacking_models(model):
                module.set_gamma(self.gamma)
