"""Callbacks: metrics log, checkpoints (best/last), early stopping, TensorBoard."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from faultcli.engine.checkpoints import save_checkpoint
from faultcli.engine.engine import Callback, Engine


def _better(mode: str, value: float, best: float | None, min_delta: float = 0.0) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    if best is None:
        return True
    return value > best + min_delta if mode == "max" else value < best - min_delta


class Monitor:
    """The validation figure that selects checkpoints and stops training, with a tie-break.

    A saturated figure (val macro-F1 at 1.0 on an easy source split) would freeze selection at the first
    epoch that reached it, a model still at a high learning rate; on an exact tie, ``tie_metric`` decides
    instead: the lower val loss, or (``tie_metric="epoch"``, ``tie_mode="max"``) the latest epoch.
    """

    def __init__(
        self, metric: str, mode: str, tie_metric: str = "", min_delta: float = 0.0, tie_mode: str = "min"
    ) -> None:
        self.metric, self.mode, self.tie_metric, self.min_delta = metric, mode, tie_metric, min_delta
        self.tie_mode = tie_mode
        self.best: float | None = None
        self.best_tie: float | None = None

    def update(self, metrics: dict[str, float]) -> bool:
        """Whether ``metrics`` beat the best so far (then remembered as the best)."""
        value, tie = metrics.get(self.metric), metrics.get(self.tie_metric) if self.tie_metric else None
        improved = _better(self.mode, value, self.best, self.min_delta) or (
            value is not None and value == self.best and _better(self.tie_mode, tie, self.best_tie)
        )
        if improved:
            self.best, self.best_tie = value, tie
        return improved

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_tie": self.best_tie}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_tie = state.get("best"), state.get("best_tie")


class MetricsLog(Callback):
    """Appends each epoch's figures to ``metrics.jsonl`` and reports one line per epoch."""

    name = "metrics_log"

    def __init__(self, log_metrics: Any, report: Any = None) -> None:
        self.log_metrics, self.report = log_metrics, report

    def on_epoch_end(self, engine: Engine, epoch: int, metrics: dict[str, float]) -> None:
        if not engine.strategy.is_main:
            return
        self.log_metrics(metrics)
        if self.report is not None:
            shown = "  ".join(f"{k} {v:.4g}" for k, v in metrics.items() if k != "epoch" and isinstance(v, float))
            self.report(f"epoch {epoch + 1}: {shown}")


class Checkpoint(Callback):
    """Saves ``last.pt`` every epoch and ``best.pt`` when the monitored metric improves."""

    name = "checkpoint"

    def __init__(self, folder: Path, monitor: Monitor, extra: dict[str, Any]) -> None:
        self.folder, self.monitor, self.extra = Path(folder), monitor, extra
        self.best_epoch = -1

    @property
    def best(self) -> float | None:
        return self.monitor.best

    def on_epoch_end(self, engine: Engine, epoch: int, metrics: dict[str, float]) -> None:
        if self.monitor.metric not in metrics and self.best_epoch < 0 and epoch == 0:
            raise ValueError(f"metric {self.monitor.metric!r} not among {sorted(metrics)}")
        improved = self.monitor.update(metrics)
        if improved:
            self.best_epoch = epoch
        if not engine.strategy.is_main:
            return
        state = {**engine.state_dict(), **self.extra}
        if improved:  # best first: a kill between the two leaves last.pt one epoch behind, never best.pt
            save_checkpoint(self.folder / "best.pt", state)
        save_checkpoint(self.folder / "last.pt", state)

    def on_interrupt(self, engine: Engine) -> None:
        if engine.strategy.is_main:  # last.pt then says where the epoch stopped; best.pt stays as it was
            save_checkpoint(self.folder / "last.pt", {**engine.state_dict(), **self.extra})

    def state_dict(self) -> dict[str, Any]:
        return {**self.monitor.state_dict(), "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.monitor.load_state_dict(state)
        self.best_epoch = state.get("best_epoch", -1)


class EarlyStopping(Callback):
    """Stops when the monitored metric has not improved for ``patience`` epochs."""

    name = "early_stopping"

    def __init__(self, monitor: Monitor, patience: int) -> None:
        self.monitor, self.patience = monitor, patience
        self.bad_epochs = 0

    def on_epoch_end(self, engine: Engine, epoch: int, metrics: dict[str, float]) -> None:
        self.bad_epochs = 0 if self.monitor.update(metrics) else self.bad_epochs + 1
        if self.patience and self.bad_epochs >= self.patience:
            engine.should_stop = True

    def state_dict(self) -> dict[str, Any]:
        return {**self.monitor.state_dict(), "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.monitor.load_state_dict(state)
        self.bad_epochs = state.get("bad_epochs", 0)


class TensorBoard(Callback):
    """Optional TensorBoard scalars in the run folder."""

    name = "tensorboard"

    def __init__(self, folder: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(folder))

    def on_epoch_end(self, engine: Engine, epoch: int, metrics: dict[str, float]) -> None:
        if not engine.strategy.is_main:
            return
        for key, value in metrics.items():
            if isinstance(value, (int, float)) and key != "epoch":
                self.writer.add_scalar(key, value, epoch)

    def on_fit_end(self, engine: Engine) -> None:
        self.writer.close()
