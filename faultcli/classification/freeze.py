"""Image classification hooks: the shared classification step plus the two-stage (frozen → full) schedule.

Stage 1 trains the head and the edge branch on a frozen backbone; stage 2 finetunes everything. The
switch comes at a fixed epoch, or earlier when the validation metric has stopped improving. The
optimizer already holds every parameter: flipping ``requires_grad`` is enough, since AdamW skips
parameters whose gradient is None (no update, no weight decay) while they are frozen.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from faultcli.classification.hooks import ClassificationHooks
from faultcli.engine.engine import Engine
from faultcli.engine.hooks import StepContext


def should_unfreeze(
    history: list[float], epoch: int, fixed_epoch: int, threshold: float, window: int, mode: str = "max"
) -> bool:
    """Whether to unfreeze the backbone after ``epoch`` (0-based, just validated).

    ``history`` holds the validation metric of every frozen epoch so far, the current one last.
    Fixed rule: ``fixed_epoch`` > 0 frozen epochs have run. Plateau rule (``threshold`` > 0): the best
    value of the last ``window`` epochs beats the best before them by less than ``threshold`` (in the
    metric's units: 0.01 = 1 point of accuracy); ``mode = "min"`` for metrics that should fall.
    """
    if fixed_epoch > 0 and epoch + 1 >= fixed_epoch:
        return True
    if threshold <= 0 or len(history) <= window:
        return False
    sign = 1.0 if mode == "max" else -1.0
    recent = max(sign * v for v in history[-window:])
    before = max(sign * v for v in history[:-window])
    return recent - before < threshold


class ImageClassificationHooks(ClassificationHooks):
    """``ClassificationHooks`` with the backbone frozen until ``should_unfreeze`` says so.

    Freezing is on when ``freeze_backbone_epochs`` > 0 or ``unfreeze_threshold`` > 0. While frozen the
    backbone also stays in eval mode, so its BatchNorm statistics do not drift either.
    """

    def __init__(
        self,
        loss_fn: nn.Module,
        num_classes: int,
        *,
        freeze_backbone_epochs: int = 0,
        unfreeze_threshold: float = 0.0,
        unfreeze_window: int = 3,
        metric: str = "val_macro_f1",
        mode: str = "max",
        **kwargs: Any,
    ) -> None:
        super().__init__(loss_fn, num_classes, **kwargs)
        self.fixed_epoch, self.threshold, self.window = freeze_backbone_epochs, unfreeze_threshold, unfreeze_window
        self.metric, self.mode = metric, mode
        self.frozen = freeze_backbone_epochs > 0 or unfreeze_threshold > 0
        self.frozen_history: list[float] = []
        self.unfrozen_at = -1  # first epoch of full finetuning; -1 = not yet (or never frozen)

    def _apply(self, model: nn.Module) -> None:
        backbone = getattr(model, "backbone", None)
        if backbone is None:
            return
        for p in backbone.parameters():
            p.requires_grad_(not self.frozen)

    def on_epoch_start(self, engine: Engine, epoch: int) -> None:
        super().on_epoch_start(engine, epoch)
        self._apply(engine.model)  # also restores the stage after --resume

    def training_step(self, model: nn.Module, batch: dict[str, Any], ctx: StepContext):
        if self.frozen and getattr(model, "backbone", None) is not None:
            model.backbone.eval()  # the engine put the whole model in train mode
        return super().training_step(model, batch, ctx)

    def on_validation_end(self, engine: Engine, epoch: int, metrics: dict[str, float]) -> None:
        metrics["backbone_frozen"] = float(self.frozen)
        if not self.frozen:
            return
        value = metrics.get(self.metric)
        if value is not None:
            self.frozen_history.append(float(value))
        if should_unfreeze(self.frozen_history, epoch, self.fixed_epoch, self.threshold, self.window, self.mode):
            self.frozen, self.unfrozen_at = False, epoch + 1
            engine.reporter.info(f"epoch {epoch + 1}: backbone unfrozen, full finetuning from epoch {epoch + 2}")

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "frozen": self.frozen,
            "frozen_history": list(self.frozen_history),
            "unfrozen_at": self.unfrozen_at,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.frozen = bool(state.get("frozen", self.frozen))
        self.frozen_history = [float(v) for v in state.get("frozen_history", [])]
        self.unfrozen_at = int(state.get("unfrozen_at", -1))
