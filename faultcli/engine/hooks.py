"""What a task tells the engine: how a batch becomes a loss, which figures an epoch yields, and which
trainable parts it owns besides the model. The engine stays task-free; everything else is here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

if TYPE_CHECKING:
    from faultcli.engine.engine import Engine


@dataclass(frozen=True)
class StepContext:
    """Where training is: schedules that follow progress (a gradient-reversal weight, a warm-up) read it."""

    epoch: int  # 0-based
    step: int  # batch within the epoch, 0-based
    global_step: int
    steps_per_epoch: int
    epochs: int

    @property
    def progress(self) -> float:
        """Share of training done, 0 at the first step and approaching 1 at the last."""
        return self.global_step / max(self.steps_per_epoch * self.epochs, 1)


class TaskHooks:
    """How one task trains and validates. Subclasses override what they need.

    ``train_metrics`` and ``val_metrics`` declare the figures the hooks produce (name → "max" or "min",
    without the ``train_`` / ``val_`` prefix), so a recipe's selection metric is checked before step 0.
    """

    train_metrics: dict[str, str] = {"loss": "min"}
    val_metrics: dict[str, str] = {"loss": "min"}

    def parts(self) -> dict[str, nn.Module]:
        """Trainable modules besides the model (a projection head, a domain discriminator): the engine
        optimises them, averages them with the model, and saves them under their own checkpoint key."""
        return {}

    def on_epoch_start(self, engine: Engine, epoch: int) -> None:
        """Per-epoch policy (augmentation stage, loss weights, unfreezing)."""

    def training_step(self, model: nn.Module, batch: Any, ctx: StepContext) -> tuple[torch.Tensor, dict[str, float]]:
        """Return the loss to minimise and figures to show (e.g. accuracy of the batch)."""
        raise NotImplementedError

    def validation_step(self, model: nn.Module, batch: Any, name: str = "") -> dict[str, torch.Tensor]:
        """Return tensors to collect over the epoch from the validation loader ``name`` ("" = the main one)."""
        raise NotImplementedError

    def validation_metrics(self, collected: dict[str, torch.Tensor], name: str = "") -> dict[str, float]:
        """Figures of an epoch's collected validation outputs, without the ``val_`` prefix."""
        raise NotImplementedError

    def on_validation_end(self, engine: Engine, epoch: int, metrics: dict[str, float]) -> None:
        """Policy that reacts to validation figures (e.g. switch from frozen to full finetuning)."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass

    def rng_state(self) -> dict[str, torch.Tensor]:
        """States of the generators the hooks draw from (augmentation, mixup), by attribute path, so a run
        resumed in the middle of an epoch draws what the uninterrupted one would have."""
        return {name: gen.get_state() for name, gen in _generators(self)}

    def set_rng_state(self, state: dict[str, torch.Tensor]) -> None:
        for name, gen in _generators(self):
            if name in state:
                gen.set_state(state[name])


def _generators(hooks: TaskHooks, prefix: str = "") -> list[tuple[str, torch.Generator]]:
    found = []
    for name, value in vars(hooks).items():
        if isinstance(value, torch.Generator):
            found.append((prefix + name, value))
        elif isinstance(value, TaskHooks):  # hooks that wrap others (domain adaptation around classification)
            found.extend(_generators(value, f"{prefix}{name}."))
    return found


def metric_names(hooks_cls: type[TaskHooks], val_loaders: tuple[str, ...] = ("",)) -> dict[str, str]:
    """Every figure a fit with ``hooks_cls`` logs per epoch (name → "max"/"min"), as the engine names them:
    ``train_<k>``, ``val_<k>`` for the main validation loader and ``val_<loader>_<k>`` for the others."""
    names = {"epoch": "max", "train_loss": "min"}
    names.update({f"train_{k}": mode for k, mode in hooks_cls.train_metrics.items()})
    for loader in val_loaders:
        prefix = f"val_{loader}_" if loader else "val_"
        names.update({prefix + k: mode for k, mode in hooks_cls.val_metrics.items()})
    return names
