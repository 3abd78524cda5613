"""Learning-rate schedules with one interface (per-batch and per-epoch steps), and piecewise values."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch


class Schedule:
    """Wraps a torch scheduler so the engine steps every kind the same way."""

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        kind: str = "cosine",
        *,
        steps_per_epoch: int = 1,
        epochs: int = 1,
        warmup_epochs: int = 0,
        plateau_metric: str = "val_loss",
        plateau_mode: str = "min",
        plateau_factor: float = 0.5,
        plateau_patience: int = 3,
    ) -> None:
        self.optimizer, self.kind, self.plateau_metric = optimizer, kind, plateau_metric
        if kind == "cosine":
            warmup = max(warmup_epochs * steps_per_epoch, 0)
            total = max(epochs * steps_per_epoch, 1)
            self.scheduler: Any = torch.optim.lr_scheduler.LambdaLR(
                optimizer, lambda step: warmup_cosine(step, warmup, total)
            )
        elif kind == "plateau":
            self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, mode=plateau_mode, factor=plateau_factor, patience=plateau_patience
            )
        elif kind == "constant":
            self.scheduler = None
        else:
            raise ValueError(f"unknown schedule {kind!r}")

    def step_batch(self) -> None:
        if self.kind == "cosine":
            self.scheduler.step()

    def step_epoch(self, metrics: dict[str, float]) -> None:
        if self.kind == "plateau" and self.plateau_metric in metrics:
            self.scheduler.step(metrics[self.plateau_metric])

    def current_lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def state_dict(self) -> dict[str, Any]:
        return self.scheduler.state_dict() if self.scheduler is not None else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.scheduler is not None and state:
            self.scheduler.load_state_dict(state)


def warmup_cosine(step: int, warmup_steps: int, total_steps: int, floor: float = 0.01) -> float:
    """Multiplier of the peak rate: linear from 0 over ``warmup_steps``, then cosine down to ``floor``."""
    if warmup_steps and step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = min((step - warmup_steps) / max(total_steps - warmup_steps, 1), 1.0)
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def piecewise(pairs: list[list[float]], epoch: int, default: float = 0.0) -> float:
    """Value of ``[[start_epoch, value], ...]`` at ``epoch`` (e.g. an ArcFace weight 0.3 → 0.5 → 0.7)."""
    value = default
    for start, v in pairs:
        if epoch >= start:
            value = float(v)
    return value


def stage_at(stages: Sequence[Any], epoch: int) -> Any | None:
    """The stage with the latest ``start_epoch`` ≤ ``epoch`` (attribute or mapping key), or None before
    the first: how every progressive policy (augmentation stages) picks what applies to an epoch."""

    def start(stage: Any) -> int:
        return int(stage["start_epoch"] if isinstance(stage, Mapping) else stage.start_epoch)

    live = [s for s in stages if start(s) <= epoch]
    return max(live, key=start) if live else None
