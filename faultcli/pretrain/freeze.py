"""Linear probe, then finetuning (LP-FT, Kumar et al. 2022): for the first epochs only the classifier head
trains on a frozen encoder, then everything trains, the encoder at ``lr × train.lr_scale``.

A wrapper around any task's hooks. The optimiser already holds every parameter: flipping
``requires_grad`` is enough, since AdamW skips parameters whose gradient is None (no update, no weight
decay). Parameters the optimiser does not hold (``train.lr_scale`` of 0) stay frozen throughout.
"""

from __future__ import annotations

from typing import Any

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from faultcli.engine.hooks import StepContext, TaskHooks
from faultcli.pretrain.init import is_head_key


def encoder_parameters(model: nn.Module) -> list[nn.Parameter]:
    """Every parameter outside the classifier read-outs (``pretrain.init.is_head_key``)."""
    return [p for name, p in model.named_parameters() if not is_head_key(name)]


class EncoderFreeze(TaskHooks):
    """``inner`` hooks with the encoder frozen (and its BatchNorm statistics fixed) for ``epochs`` epochs."""

    def __init__(self, inner: TaskHooks, epochs: int) -> None:
        self.inner, self.epochs = inner, epochs
        self.train_metrics, self.val_metrics = inner.train_metrics, inner.val_metrics
        self.frozen = epochs > 0

    def parts(self) -> dict[str, nn.Module]:
        return self.inner.parts()

    def on_epoch_start(self, engine: Any, epoch: int) -> None:
        self.inner.on_epoch_start(engine, epoch)
        self.frozen = epoch < self.epochs
        held = {id(p) for group in engine.optimizer.param_groups for p in group["params"]}
        for p in encoder_parameters(engine.model):
            if id(p) in held:
                p.requires_grad_(not self.frozen)
        if epoch == self.epochs and epoch > 0:
            engine.reporter.info(f"epoch {epoch + 1}: encoder unfrozen after {self.epochs} epoch(s) of linear probe")

    def training_step(self, model: nn.Module, batch: Any, ctx: StepContext):
        if self.frozen:  # the engine put the whole model in train mode
            for name, module in model.named_modules():
                if isinstance(module, _BatchNorm) and not is_head_key(name + ".x"):
                    module.eval()
        return self.inner.training_step(model, batch, ctx)

    def validation_step(self, model: nn.Module, batch: Any, name: str = ""):
        return self.inner.validation_step(model, batch, name)

    def validation_metrics(self, collected, name: str = ""):
        return self.inner.validation_metrics(collected, name)

    def on_validation_end(self, engine: Any, epoch: int, metrics: dict[str, float]) -> None:
        self.inner.on_validation_end(engine, epoch, metrics)
        metrics["encoder_frozen"] = float(self.frozen)

    def state_dict(self) -> dict[str, Any]:
        return self.inner.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.inner.load_state_dict(state)
