"""The training engine: epochs of batches, validation, events for callbacks. Nothing task-specific here.

What differs between tasks (how a batch becomes a loss, which metrics an epoch yields, per-epoch
policy such as augmentation stages or unfreezing, trainable parts besides the model) lives in
``TaskHooks`` (engine/hooks.py); logging, checkpointing and early stopping are ``Callback`` objects whose
state goes into checkpoints; how processes share the work is the ``strategy`` (engine/strategy.py).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from faultcli.engine.hooks import StepContext, TaskHooks
from faultcli.engine.interrupt import Interrupted
from faultcli.engine.schedules import Schedule
from faultcli.engine.strategy import SingleProcess
from faultcli.errors import TrainingError
from faultcli.progress import NullReporter, Reporter

ValLoaders = dict[str, Iterable[Any]]


class Callback:
    """Reacts to engine events; state it returns from ``state_dict`` is saved in checkpoints."""

    name = "callback"

    def on_fit_start(self, engine: Engine) -> None:
        pass

    def on_epoch_end(self, engine: Engine, epoch: int, metrics: dict[str, float]) -> None:
        pass

    def on_fit_end(self, engine: Engine) -> None:
        pass

    def on_interrupt(self, engine: Engine) -> None:
        """Training stops on a signal in the middle of an epoch (``engine.state_dict`` says where)."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


def collate_outputs(chunks: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Concatenate per-batch outputs along the batch axis (0-d values are stacked)."""
    if not chunks:
        return {}
    out = {}
    for key in chunks[0]:
        parts = [c[key].detach().cpu() for c in chunks]
        out[key] = torch.stack(parts) if parts[0].dim() == 0 else torch.cat(parts)
    return out


class Engine:
    """Runs epochs: train, validate, fire events. ``should_stop`` lets a callback end training."""

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        schedule: Schedule,
        hooks: TaskHooks,
        callbacks: list[Callback] | None = None,
        *,
        device: torch.device,
        seed: int = 0,
        grad_clip: float = 0.0,
        amp: bool = False,
        channels_last: bool = False,
        ema_decay: float | None = None,
        max_train_batches: int = 0,
        accumulate: int = 1,
        reporter: Reporter | None = None,
        strategy: SingleProcess | None = None,
    ) -> None:
        self.model, self.optimizer, self.schedule, self.hooks = model, optimizer, schedule, hooks
        self.strategy = strategy or SingleProcess()
        # parts the hooks train beside the model; ``model`` stays the network that is evaluated and exported
        self.parts = nn.ModuleDict(hooks.parts()).to(device)
        self.callbacks = callbacks or []
        self.device, self.seed, self.grad_clip = device, seed, grad_clip
        self.max_train_batches = max_train_batches
        self.accumulate = accumulate  # batches whose gradients add up before each optimiser step
        self.reporter = reporter or NullReporter()
        # bf16/fp16 autocast pays off on CUDA only; on this CPU it would slow training down
        self.amp = amp and device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        if channels_last:
            # NHWC weights make each 2-D convolution take and give NHWC activations (oneDNN's fast path);
            # the input converts at the first convolution, so batches need no change
            self.model.to(memory_format=torch.channels_last)
        # what the optimiser trains and the average follows: the model, with the hooks' parts beside it
        self._trained = nn.ModuleDict({"model": self.model, "parts": self.parts}) if len(self.parts) else self.model
        # with ``ema_decay`` (None = off), an exponential moving average of the weights and BatchNorm
        # statistics is what validation sees and checkpoints hold: it varies less by seed than the last
        # step's weights, which matters when validation is too easy to tell epochs apart
        self.ema = (
            None
            if ema_decay is None
            else AveragedModel(self._trained, multi_avg_fn=ema_with_warmup(ema_decay), use_buffers=True)
        )
        self.epoch = 0  # next epoch to run
        self.steps_per_epoch = 0
        self.should_stop = False
        self.history: list[dict[str, float]] = []
        self.stop_request: str | None = None  # a signal's name: stop after the current step
        self.partial: dict[str, Any] | None = None  # where an interrupted epoch stopped (saved, resumed)
        self._bad_loss: float | None = None  # a non-finite loss in the optimiser step being accumulated

    @property
    def eval_model(self) -> nn.Module:
        """The weights validation and inference use: the moving average when there is one."""
        if self.ema is None:
            return self.model
        return self.ema.module["model"] if len(self.parts) else self.ema.module

    @property
    def eval_parts(self) -> nn.ModuleDict:
        """The hooks' parts as validation sees them (averaged with the model when it is)."""
        return self.ema.module["parts"] if self.ema is not None and len(self.parts) else self.parts

    # --- state -------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        # "model" always holds the weights to infer with; the trained weights and the average's
        # count ride along for --resume
        averaged = {} if self.ema is None else {"train_model": self.model.state_dict(), "ema": self.ema.state_dict()}
        return {
            "model": self.eval_model.state_dict(),
            **averaged,
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "epoch": self.epoch,
            **(
                {"parts": self.eval_parts.state_dict(), "train_parts": self.parts.state_dict()}
                if len(self.parts)
                else {}
            ),
            "hooks": self.hooks.state_dict(),
            "callbacks": {cb.name: cb.state_dict() for cb in self.callbacks},
            "history": self.history,
            **({"partial": self.partial} if self.partial is not None else {}),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state.get("train_model", state["model"]))
        if len(self.parts):
            if "train_parts" not in state:
                raise TrainingError("this checkpoint holds none of the parts this recipe trains; start a new run")
            self.parts.load_state_dict(state["train_parts"])
        if self.ema is not None:
            if "ema" not in state:
                raise TrainingError("this checkpoint has no weight average; resume it with train.ema_epochs=0")
            self.ema.load_state_dict(state["ema"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.epoch = int(state["epoch"])
        self.hooks.load_state_dict(state.get("hooks", {}))
        for cb in self.callbacks:
            cb.load_state_dict(state.get("callbacks", {}).get(cb.name, {}))
        self.history = list(state.get("history", []))
        self.partial = state.get("partial")

    # --- loop --------------------------------------------------------------------------------
    def fit(
        self, train_loader: Iterable[Any], val_loaders: ValLoaders | Iterable[Any] | None, epochs: int
    ) -> list[dict[str, float]]:
        """Train until ``epochs`` or a callback's ``should_stop``. ``val_loaders`` maps names to loaders
        (figures ``val_<metric>`` for the name "" and ``val_<name>_<metric>`` for the others); a single
        loader is the main one."""
        if val_loaders is not None and not isinstance(val_loaders, dict):
            val_loaders = {"": val_loaders}
        train_loader = self.strategy.shard(train_loader)
        self.steps_per_epoch = self._steps(train_loader)
        for cb in self.callbacks:
            cb.on_fit_start(self)
        while self.epoch < epochs and not self.should_stop:
            if self.strategy.any_of(self.stop_request is not None)[0]:  # between epochs: last.pt is current
                raise self._interrupted(self.epoch, 0)
            epoch = self.epoch
            # every epoch re-seeds from (seed, epoch): a resumed run draws what an uninterrupted one would
            torch.manual_seed(self.seed * 100_003 + epoch)
            self.hooks.on_epoch_start(self, epoch)
            started = time.perf_counter()
            train_figures = self._train_epoch(train_loader, epoch, epochs)
            metrics = {"epoch": epoch, "lr": self.schedule.current_lr(), **train_figures}
            for name, loader in (val_loaders or {}).items():
                collected = self.predict(loader, name)
                prefix = f"val_{name}_" if name else "val_"
                metrics.update({prefix + k: v for k, v in self.hooks.validation_metrics(collected, name).items()})
            if val_loaders:
                self.hooks.on_validation_end(self, epoch, metrics)
            metrics["epoch_seconds"] = time.perf_counter() - started
            self.schedule.step_epoch(metrics)
            self.epoch = epoch + 1
            self.history.append(metrics)
            for cb in self.callbacks:
                cb.on_epoch_end(self, epoch, metrics)
            self.should_stop = bool(self.strategy.broadcast(self.should_stop))  # all stop with the main one
        for cb in self.callbacks:
            cb.on_fit_end(self)
        return self.history

    def _steps(self, loader: Iterable[Any]) -> int:
        total = len(loader) if hasattr(loader, "__len__") else 0
        return min(total, self.max_train_batches) if self.max_train_batches and total else total

    def _train_epoch(self, loader: Iterable[Any], epoch: int, epochs: int) -> dict[str, float]:
        self.model.train()
        self.parts.train()
        sums: dict[str, float] = {}
        count = skip = 0
        resumed, self.partial = self.partial, None
        if resumed is not None:  # an epoch interrupted by a signal: its first batches are done
            skip, count, sums = resumed["step"], resumed["count"], dict(resumed["sums"])
        with self.reporter.task(f"epoch {epoch + 1}", self.steps_per_epoch or None) as progress:
            if skip:
                progress.advance(skip)
            for i, batch in enumerate(loader):
                if self.max_train_batches and i >= self.max_train_batches:
                    break
                if i < skip:  # drawn in the same order, not trained; then the random draws go on from there
                    if i == skip - 1:
                        torch.set_rng_state(resumed["rng"])
                        self.hooks.set_rng_state(resumed["hooks_rng"])
                    continue
                ctx = StepContext(epoch, i, epoch * self.steps_per_epoch + i, self.steps_per_epoch, epochs)
                figures, stop = self._train_step(batch, ctx)
                count += 1
                for k, v in figures.items():
                    sums[k] = sums.get(k, 0.0) + v
                progress.advance(
                    1, **{k: sums[k] / count for k in ("loss", "acc") if k in sums}, lr=self.schedule.current_lr()
                )
                if stop:
                    rng = {"rng": torch.get_rng_state(), "hooks_rng": self.hooks.rng_state()}
                    self.partial = {"step": i + 1, "count": count, "sums": sums, **rng}
                    for cb in self.callbacks:
                        cb.on_interrupt(self)
                    raise self._interrupted(epoch, i + 1)
        return {f"train_{k}": v for k, v in self.strategy.mean_figures(sums, count).items()}

    def _interrupted(self, epoch: int, step: int) -> Interrupted:
        where = f"epoch {epoch + 1}, batch {step}" if step else f"the start of epoch {epoch + 1}"
        return Interrupted(f"training stopped by {self.stop_request or 'a signal'} at {where}")

    def _train_step(self, batch: Any, ctx: StepContext) -> tuple[dict[str, float], bool]:
        """One batch; after the last batch of an optimiser step, the step. Returns the batch's figures and
        whether a stop signal ends training here (at a step's boundary: no gradient left half accumulated)."""
        batch = to_device(batch, self.device)
        # gradients add up over ``accumulate`` batches (fewer in the epoch's last group), then one step
        start = ctx.step - ctx.step % self.accumulate
        group = min(self.accumulate, self.steps_per_epoch - start) if self.steps_per_epoch else self.accumulate
        first, last = ctx.step == start, ctx.step == start + group - 1
        if first:
            self.optimizer.zero_grad(set_to_none=True)
            self._bad_loss = None
        model = self.strategy.wrap(self.model)
        with self.strategy.no_sync(model, skip=not last):
            with torch.autocast(self.device.type, enabled=self.amp):
                loss, figures = self.hooks.training_step(model, batch, ctx)
            value = loss.item()
            if not math.isfinite(value):
                self._bad_loss = value
            self.scaler.scale(loss / group if group > 1 else loss).backward()
        figures = {"loss": value, **figures}
        if not last:
            return figures, False
        # one exchange a step: a non-finite loss or a stop signal in any process ends every process's training
        bad, stop = self.strategy.any_of(self._bad_loss is not None, self.stop_request is not None)
        if bad:  # before the optimiser step: the weights stay those of the last good step
            shown = "non-finite in another process" if self._bad_loss is None else self._bad_loss
            raise TrainingError(
                f"the loss became {shown} at epoch {ctx.epoch + 1}; training stopped and the last good "
                "checkpoint is kept — lower train.lr, enable train.grad_clip, or check the data for outliers"
            )
        self.strategy.sync_gradients(list(self.parts.values()))
        if self.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self._trained.parameters(), self.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.schedule.step_batch()
        if self.ema is not None:
            self.ema.update_parameters(self._trained)
        return figures, stop

    @torch.no_grad()
    def predict(self, loader: Iterable[Any], name: str = "") -> dict[str, torch.Tensor]:
        """Run ``validation_step`` over a loader in eval mode and collect its outputs (of every process)."""
        model = self.eval_model
        model.eval()
        self.eval_parts.eval()
        chunks = []
        shard = self.strategy.shard(loader, pad=False)
        for batch in shard:
            with torch.autocast(self.device.type, enabled=self.amp):
                chunks.append(self.hooks.validation_step(model, to_device(batch, self.device), name))
        return self.strategy.gather(collate_outputs(chunks), shard)


def ema_with_warmup(decay: float):
    """An exponential moving average whose decay ramps up as (1 + n) / (10 + n) after n updates, as timm's
    model EMA warms up: without it the random initial weights linger in the average for many epochs."""

    @torch.no_grad()
    def update(averaged: list[torch.Tensor], current: list[torch.Tensor], n_averaged: torch.Tensor) -> None:
        if not torch.is_floating_point(averaged[0]):  # integer buffers (BatchNorm's batch count) follow the model
            torch._foreach_copy_(averaged, current)
            return
        n = float(n_averaged)
        torch._foreach_lerp_(averaged, current, 1.0 - min(decay, (1.0 + n) / (10.0 + n)))

    return update


def to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device) for v in batch)
    return batch
