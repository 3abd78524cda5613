"""Resume an interrupted training run (any task) in its own folder from ``checkpoints/last.pt``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from faultcli.engine.checkpoints import load_checkpoint
from faultcli.errors import UserError
from faultcli.progress import Reporter
from faultcli.runs import Run, close_logger, make_logger
from faultcli.services.common import resolve_config


def resume_run(
    path: Path, overrides: list[str], reporter: Reporter, train: Callable[..., dict[str, Any]] | None = None
) -> tuple[dict[str, Any], Path]:
    """``path`` is a run folder or its last.pt; the config comes from the checkpoint (overrides allowed).
    ``train(cfg, run, reporter, resume=last.pt)`` continues it: the one fit flow unless told otherwise."""
    from faultcli.services.fit import fit

    train = train or fit
    path = Path(path)
    ckpt = path / "checkpoints" / "last.pt" if path.is_dir() else path
    run_dir = ckpt.parent.parent
    state = load_checkpoint(ckpt)
    if state.get("fold", -1) >= 0:
        raise UserError("resuming a k-fold run is not supported; rerun the fold with --set data.fold=<k>")
    cfg = resolve_config(None, overrides, base=dict(state["config"]))
    run = Run(path=run_dir, logger=make_logger(run_dir))
    run.logger.info("resuming from %s", ckpt)
    try:
        summary = train(cfg, run, reporter, resume=ckpt)
    finally:
        close_logger(run.logger)
    return summary, run_dir
