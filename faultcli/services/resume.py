"""Resume an interrupted training run (any task) in its own folder from its newest valid checkpoint.

``checkpoints/last.pt`` first; when it is truncated or corrupt, the newest other checkpoint of the run that
loads (``best.pt``, or any other ``.pt`` there) with a warning naming the file and why. Before training goes
on, what an interruption can leave behind is put right: ``best.pt`` when the run stopped between saving
``last.pt`` and ``best.pt``, ``metrics.jsonl`` lines of epochs the checkpoint does not hold, and temporary
files of an unfinished write. Every epoch re-seeds from (seed, epoch), so the resumed run ends with the
figures an uninterrupted one would.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from faultcli.engine.checkpoints import load_checkpoint, save_checkpoint
from faultcli.engine.strategy import current
from faultcli.errors import CheckpointError, UserError
from faultcli.progress import LogReporter, Reporter
from faultcli.runs import Run, atomic_write_text, close_logger, make_logger
from faultcli.services.common import quiet_logger, resolve_config

Warn = Callable[[str], None]


def resume_run(
    path: Path, overrides: list[str], reporter: Reporter, train: Callable[..., dict[str, Any]] | None = None
) -> tuple[dict[str, Any], Path]:
    """``path`` is a run folder or one of its checkpoints; the config comes from the checkpoint (overrides
    allowed). ``train(cfg, run, reporter, resume=<checkpoint>)`` continues it: the task's trainer unless told
    otherwise."""
    from faultcli.services.fit import trainer

    path = Path(path)
    if not path.exists():
        raise UserError(f"--resume {path} not found; pass a run folder or its checkpoints/last.pt")
    folder = path / "checkpoints" if path.is_dir() else path.parent
    if not folder.is_dir():
        raise UserError(f"{path} has no checkpoints/ folder; pass the folder of a training run")
    run_dir = folder.parent
    strategy = current()  # under torchrun the main process repairs and logs; the others read after it
    logger = make_logger(run_dir) if strategy.is_main else quiet_logger(strategy.rank)
    log = LogReporter(reporter, logger)
    try:
        with strategy.main_first():
            ckpt, state = newest_valid(folder, folder / "last.pt" if path.is_dir() else path, log.info)
            if state.get("fold", -1) >= 0:
                raise UserError("resuming a k-fold run is not supported; rerun the fold with --set data.fold=<k>")
            if strategy.is_main:
                repair_best(folder, ckpt, state, log.info)
                trim_metrics(run_dir / "metrics.jsonl", int(state["epoch"]), log.info)
                remove_temporaries(run_dir, log.info)
        cfg = resolve_config(None, overrides, base=dict(state["config"]))
        run = Run(path=run_dir, logger=logger)
        logger.info("resuming from %s", ckpt)
        summary = (train or trainer(cfg.task))(cfg, run, reporter, resume=ckpt)
    finally:
        close_logger(logger)
    return summary, run_dir


def _reason(err: CheckpointError) -> str:
    return str(err).split("; ")[0]


def newest_valid(folder: Path, first: Path, warn: Warn) -> tuple[Path, dict[str, Any]]:
    """``first`` if it loads; else the checkpoint of ``folder`` that loads and holds the latest epoch
    (last.pt before the others on a tie). Each file skipped is named, with why; none valid is an error."""
    skipped: list[str] = []
    valid: list[tuple[int, bool, Path, dict[str, Any]]] = []
    for candidate in [first] + [p for p in _others(folder) if p != first]:
        try:
            state = load_checkpoint(candidate)
        except CheckpointError as err:
            if candidate.exists():
                warn(f"skipping {candidate}: {_reason(err)}")
                skipped.append(f"{candidate.name} {_reason(err).removeprefix(str(candidate) + ' ')}")
            continue
        if candidate == first:
            return candidate, state
        valid.append((int(state.get("epoch", 0)), candidate.name == "last.pt", candidate, state))
    if valid:
        epoch, _, chosen, state = max(valid, key=lambda item: item[:2])
        warn(f"resuming from {chosen} instead (epoch {epoch})")
        return chosen, state
    if skipped:
        raise CheckpointError(f"no valid checkpoint in {folder} ({'; '.join(skipped)}); start a new run")
    raise CheckpointError(
        f"{folder} holds no checkpoint yet (the run stopped before its first epoch ended); "
        f"start it again with --recipe {folder.parent / 'config.toml'}"
    )


def _others(folder: Path) -> list[Path]:
    """The run's checkpoints: last.pt, best.pt, then any other ``.pt`` (e.g. per-epoch files), by name."""
    named = [folder / "last.pt", folder / "best.pt"]
    rest = sorted(p for p in folder.glob("*.pt") if p not in named and not p.name.startswith("."))
    return [p for p in named if p.exists()] + rest


def repair_best(folder: Path, ckpt: Path, state: dict[str, Any], warn: Warn) -> None:
    """Make ``best.pt`` the checkpoint of the best epoch ``state`` records. A run stopped between saving
    ``last.pt`` and ``best.pt`` of an improving epoch has a best.pt that is one improvement behind (or none);
    that epoch is the one ``state`` holds, so it is written from it."""
    best_epoch = state.get("callbacks", {}).get("checkpoint", {}).get("best_epoch")
    best = folder / "best.pt"
    if best_epoch is None or best_epoch < 0 or ckpt == best:
        return
    try:
        held = load_checkpoint(best).get("epoch")
        why = f"holds epoch {held}" if held is not None else "holds no epoch"
    except CheckpointError as err:
        held, why = None, _reason(err).removeprefix(str(best) + " ")
    if held == best_epoch + 1:
        return
    if best_epoch + 1 != int(state["epoch"]) or "partial" in state:  # a mid-epoch state is not the epoch's end
        raise CheckpointError(
            f"{best} {why}, but {ckpt.name} selected epoch {best_epoch + 1} as the best; start a new run"
        )
    save_checkpoint(best, state)
    warn(f"{best} {why}; rewritten from {ckpt.name}, whose epoch {best_epoch + 1} is the best so far")


def trim_metrics(path: Path, epochs: int, warn: Warn) -> None:
    """Keep the ``metrics.jsonl`` lines of the ``epochs`` epochs the checkpoint holds: the resumed run
    writes the later ones again."""
    if not path.is_file():
        return
    kept, dropped = [], 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            dropped += 1  # a line cut short by the interruption
            continue
        if isinstance(record, dict) and isinstance(record.get("epoch"), int) and record["epoch"] >= epochs:
            dropped += 1
            continue
        kept.append(line)
    if dropped:
        atomic_write_text(path, "".join(line + "\n" for line in kept))
        warn(f"{path.name}: dropped {dropped} line(s) past epoch {epochs} (written again as training continues)")


def remove_temporaries(run_dir: Path, warn: Warn) -> None:
    """Delete the temporary files (``.<name>.tmp``) of writes the interruption cut short."""
    left = [p for p in run_dir.rglob(".*.tmp*") if p.is_file() and not p.is_symlink()]
    for p in left:
        os.unlink(p)
    if left:
        warn(f"removed {len(left)} unfinished temporary file(s) in {run_dir}")
