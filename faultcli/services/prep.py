"""`faultcli prep`: build (or reuse) the prepared dataset a recipe describes, in a run folder of its own."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from faultcli.config import Config
from faultcli.progress import LogReporter, NullReporter, Reporter
from faultcli.services.common import resolve_config, start_run

SPLIT_NAMES = ("train", "val", "test")


def build_dataset(cfg: Config, reporter: Reporter) -> Any:
    """The prepared dataset for ``cfg.task``: a VibrationDataset or an ImageDataset (both cached)."""
    if cfg.task == "vibration-classification":
        from faultcli.data.vibration import prepare_vibration

        return prepare_vibration(cfg.data, reporter)
    from faultcli.data.images import prepare_images  # image-classification, segmentation

    return prepare_images(cfg.data, cfg.task, reporter)


def _summary(cfg: Config, dataset: Any, seconds: float) -> dict[str, Any]:
    """Flat figures of a prepared dataset; kfold counts are those of the fold ``data.fold`` (or 0) runs on."""
    vibration = cfg.task == "vibration-classification"
    unit = "windows" if vibration else "images"
    fold = max(cfg.data.fold, 0) if cfg.data.split == "kfold" else None
    out: dict[str, Any] = {f"n_{unit}_{s}": int(len(dataset.indices(s, fold))) for s in SPLIT_NAMES}
    if vibration:
        out["n_recordings"] = int(len(dataset.recordings))
    out["n_classes"] = len(dataset.manifest["classes"])
    out["cache_hit"] = bool(getattr(dataset, "cache_hit", False))
    out["seconds"] = round(seconds, 3)
    out["dataset"] = str(getattr(dataset, "path", None) or getattr(dataset, "folder", ""))
    out["kind"] = dataset.manifest.get("kind", "")
    return out


def prep(
    cfg: Config, *, name: str | None = None, out: Path | None = None, reporter: Reporter | None = None
) -> dict[str, Any]:
    """Prepare the data of a resolved config inside a new run folder; returns what the CLI shows.

    Keys: ``summary`` (also written to summary.json), ``classes``, ``counts`` (split → class → n),
    ``run_dir``, ``notes``. Bad input raises inside the run, so no run folder is left behind.
    """
    started = time.monotonic()
    with start_run("prep", cfg, name, out) as run:
        log = LogReporter(reporter or NullReporter(), run.logger)
        dataset = build_dataset(cfg, log)
        summary = _summary(cfg, dataset, time.monotonic() - started)
        run.write_json("manifest.json", dataset.manifest)
        run.write_summary(summary)
        run.logger.info("summary %s", summary)
    return {
        "summary": summary,
        "classes": list(dataset.manifest["classes"]),
        "counts": _ordered(dataset.manifest["counts"]),
        "run_dir": str(run.path),
        "notes": list(dataset.manifest.get("notes", [])),
    }


def _ordered(counts: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """train, val, test first, then folds by number (JSON files store keys sorted as text)."""

    def rank(name: str) -> tuple[int, int, str]:
        if name in SPLIT_NAMES:
            return (0, SPLIT_NAMES.index(name), name)
        digits = "".join(ch for ch in name if ch.isdigit())
        return (1, int(digits) if digits else 0, name)

    return {name: counts[name] for name in sorted(counts, key=rank)}


def run_prep(
    recipe: Path | None,
    overrides: list[str] | None = None,
    *,
    name: str | None = None,
    out: Path | None = None,
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    """Load the recipe (with ``--set`` overrides), then :func:`prep` it."""
    return prep(resolve_config(recipe, overrides), name=name, out=out, reporter=reporter)
