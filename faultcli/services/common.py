"""What every service does the same way: resolve config, open the run folder, pick the device."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from faultcli.config import Config, dump_toml, load_config
from faultcli.runs import Run, new_run_dir, open_run, point_latest


def resolve_config(recipe: Path | None, overrides: list[str] | None, base: dict | None = None) -> Config:
    from faultcli.errors import ConfigError

    if recipe is None and base is None:
        raise ConfigError("no recipe given; pass --recipe recipes/<name>.toml (see the recipes/ folder)")
    return load_config(recipe, overrides, base=base)


def launched_processes() -> int:
    """How many processes torchrun started (1 without torchrun); read without importing torch."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def quiet_logger(rank: int) -> logging.Logger:
    """The run logger of a process other than the main one under torchrun: it writes nowhere."""
    logger = logging.getLogger(f"faultcli.run.rank{rank}")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    logger.propagate = False
    return logger


@contextlib.contextmanager
def start_run(command: str, cfg: Config, name: str | None = None, out: Path | None = None) -> Iterator[Run]:
    """Open ``runs/<command>/<name>-<time>`` (or ``out``) with the resolved config written first. Under
    torchrun the main process opens it; the others get its path and write nothing."""
    if launched_processes() > 1:
        from faultcli.engine.strategy import current

        strategy = current()
        if not strategy.is_main:
            yield Run(path=Path(strategy.broadcast(None)), logger=quiet_logger(strategy.rank))
            return
        path = strategy.broadcast(new_run_dir(command, name or cfg.name or command, out))
    else:
        path = new_run_dir(command, name or cfg.name or command, out)
    with open_run(path, dump_toml(cfg)) as run:
        run.logger.info("faultcli %s: run folder %s", command, path)
        yield run
    if out is None:
        point_latest(path)


def pick_device(name: str):
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        from faultcli.errors import ConfigError

        raise ConfigError(f"train.device = {name!r} but no CUDA GPU is visible; set train.device = 'cpu' or 'auto'")
    return torch.device(name)


def set_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads or os.cpu_count() or 1)


def make_optimizer(cfg: Config, model, parts: dict, steps_per_epoch: int, plateau_metric: str, plateau_mode: str):
    """AdamW over the model and the hooks' trainable ``parts``, with ``train.lr_scale``'s parameter groups,
    and the recipe's learning-rate schedule. Returns (optimizer, schedule); ``plateau_*`` is what
    ReduceLROnPlateau watches."""
    import torch

    from faultcli.engine.optim import parameter_groups
    from faultcli.engine.schedules import Schedule

    t = cfg.train
    groups = parameter_groups(model, parts, t.lr, t.lr_scale)
    optimizer = torch.optim.AdamW(groups, lr=t.lr, weight_decay=t.weight_decay)
    schedule = Schedule(
        optimizer,
        t.scheduler,
        steps_per_epoch=steps_per_epoch,
        epochs=t.epochs,
        warmup_epochs=t.warmup_epochs,
        plateau_metric=plateau_metric,
        plateau_mode=plateau_mode,
        plateau_factor=t.plateau_factor,
        plateau_patience=t.plateau_patience,
    )
    return optimizer, schedule


def make_engine(
    cfg: Config,
    model,
    optimizer,
    schedule,
    hooks,
    *,
    out: Path,
    log_metrics,
    extra: dict,
    reporter,
    device,
    steps_per_epoch: int,
    strategy=None,
):
    """The engine with the callbacks every training command uses: metrics log, best/last checkpoints
    in ``out/checkpoints``, early stopping and optional TensorBoard. ``steps_per_epoch`` counts optimiser
    steps. Returns (engine, checkpoint)."""
    from faultcli.engine.callbacks import Checkpoint, EarlyStopping, MetricsLog, Monitor, TensorBoard
    from faultcli.engine.engine import Engine

    t = cfg.train

    def monitor() -> Monitor:  # one each: checkpointing and early stopping keep their own best
        tie = t.tie_break_metric if t.tie_break_metric != t.early_stop_metric else ""
        return Monitor(t.early_stop_metric, t.early_stop_mode, tie, tie_mode=t.tie_break_mode)

    checkpoints = Checkpoint(out / "checkpoints", monitor(), extra)
    callbacks = [MetricsLog(log_metrics, reporter.info), checkpoints]
    if t.patience:
        callbacks.append(EarlyStopping(monitor(), t.patience))
    if t.tensorboard:
        callbacks.append(TensorBoard(out / "tensorboard"))
    engine = Engine(
        model,
        optimizer,
        schedule,
        hooks,
        callbacks,
        device=device,
        seed=cfg.seed,
        grad_clip=t.grad_clip,
        amp=t.amp,
        channels_last=t.channels_last,
        # a horizon in epochs means the same averaging whatever the data set's size
        ema_decay=1.0 - 1.0 / max(t.ema_epochs * steps_per_epoch, 1.0) if t.ema_epochs else None,
        max_train_batches=t.max_train_batches,
        accumulate=t.accumulate,
        reporter=reporter,
        strategy=strategy,
    )
    return engine, checkpoints


def build_model(name: str, kwargs: dict):
    """Create a registered model from the arguments its builder takes (a task passes every setting of
    its [model] section; ``check_model_settings`` has refused the ones a builder cannot use)."""
    from faultcli.models import create_model

    return create_model(name, **kwargs)


def load_trained_model(state: dict, device):
    """The model of a checkpoint, in eval mode on ``device``; weights that do not fit are a one-line error."""
    from faultcli.errors import CheckpointError

    model = build_model(state["model_name"], dict(state["model_kwargs"]))
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as err:
        first = str(err).splitlines()[0][:160]
        raise CheckpointError(
            f"checkpoint weights do not fit model {state['model_name']} ({first}); "
            "use the checkpoint with the recipe it was trained with"
        ) from None
    return model.to(device).eval()
