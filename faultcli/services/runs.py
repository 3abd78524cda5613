"""What `faultcli runs` shows: one table of many run folders (after an ablation loop), or one run in full."""

from __future__ import annotations

import csv
import io
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faultcli.config.load import migrate
from faultcli.errors import UserError
from faultcli.runs import atomic_write_json, atomic_write_text

# headline figures, in this order, when a run has them; every other scalar still goes to --json / --csv
FIGURES = (
    "test_accuracy",
    "test_macro_f1",
    "test_accuracy_mean",
    "test_accuracy_std",
    "test_macro_f1_mean",
    "test_macro_f1_std",
    "accuracy",
    "macro_f1",
    "test_dice_pos",
    "test_defect_dice",
    "test_detect_recall",
    "test_weighted_f",
    "test_dice_all_images",
    "test_ece",
    "ece",
    "best_epoch",
    "params",
    "trainable_params",
    "train_seconds",
)


@dataclass
class RunInfo:
    label: str
    path: Path
    summary: dict[str, Any]
    config: dict[str, Any]  # config.toml flattened to dotted keys ("train.lr", "augment.1.eq_db")


@dataclass
class RunTable:
    runs: list[RunInfo]
    figures: list[str]  # summary keys shown as columns
    differing: list[str]  # config keys whose values differ between the runs
    unfinished: list[Path] = field(default_factory=list)  # run folders without summary.json, left out

    def rows(self) -> list[list[Any]]:
        """One row per run: label, figures, differing settings (as TOML-like text)."""
        return [
            [r.label, *(r.summary.get(k, "") for k in self.figures), *(show(r.config.get(k)) for k in self.differing)]
            for r in self.runs
        ]

    @property
    def columns(self) -> list[str]:
        return ["run", *self.figures, *self.differing]


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested tables → dotted keys; a list of tables becomes ``key.0.sub`` (as --set addresses it)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}{key}."))
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = {}
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}{i}."))
        return out
    return {prefix.rstrip("."): value}


def show(value: Any) -> str:
    """A setting as a user writes it after --set (missing: '–')."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise UserError(f"{path} is not readable JSON ({err}); remove the run folder or re-run it") from None
    if not isinstance(data, dict):
        raise UserError(f"{path} does not hold a JSON object; it is not a faultcli summary")
    return data


def _read_config(run: Path) -> dict[str, Any]:
    path = run / "config.toml"
    if not path.is_file():
        return {}
    try:
        # runs of the earlier layout compare with new ones key for key
        return flatten(migrate(tomllib.loads(path.read_text(encoding="utf-8"))))
    except tomllib.TOMLDecodeError as err:
        raise UserError(f"{path} is not valid TOML ({err}); the run folder was edited by hand") from None


def _scalars(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if isinstance(v, (int, float, str, bool)) or v is None}


def find_runs(folder: Path) -> tuple[list[Path], list[Path]]:
    """(finished runs, unfinished runs) at or under ``folder``: a run folder holds summary.json (finished)
    or only config.toml; the search stops at a run folder and skips `latest` links."""
    finished: list[Path] = []
    unfinished: list[Path] = []
    if (folder / "summary.json").is_file():
        return [folder], []
    if (folder / "config.toml").is_file():
        return [], [folder]
    for child in sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()):
        done, open_ = find_runs(child)
        finished += done
        unfinished += open_
    return finished, unfinished


def _label(run: Path, folder: Path, several: bool) -> str:
    inner = run.relative_to(folder).as_posix() if run != folder else folder.name
    return f"{folder.name}/{inner}" if several and run != folder else inner


def collect(folders: list[Path]) -> RunTable:
    """Every run under ``folders``: its summary, its settings, and which settings differ between runs."""
    if not folders:
        raise UserError("no folder given; pass the folder(s) holding run folders, e.g. runs/finetune")
    runs: list[RunInfo] = []
    unfinished: list[Path] = []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            raise UserError(f"{folder} is not a folder; pass a run folder or a folder of run folders")
        done, open_ = find_runs(folder.resolve() if folder.is_symlink() else folder)
        base = folder.resolve() if folder.is_symlink() else folder
        for run in done:
            runs.append(RunInfo(_label(run, base, len(folders) > 1), run, _read_json(run / "summary.json"), {}))
        unfinished += open_
    if not runs:
        where = ", ".join(str(f) for f in folders)
        raise UserError(f"no finished run (a folder with summary.json) under {where}; check the path")
    for run in runs:
        run.config = _read_config(run.path)
    keys = sorted({k for r in runs for k in r.config})
    differing = [k for k in keys if len({show(r.config.get(k)) for r in runs}) > 1] if len(runs) > 1 else []
    present = [k for k in FIGURES if any(k in r.summary for r in runs)]
    if not present:  # a summary of another kind: show its numbers
        present = sorted({k for r in runs for k, v in _scalars(r.summary).items() if isinstance(v, (int, float))})
    return RunTable(runs, present, differing, unfinished)


def table_markdown(table: RunTable) -> str:
    def cell(v: Any) -> str:
        return f"{v:.4f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.rows()]
    return "\n".join(lines) + "\n"


def table_records(table: RunTable) -> list[dict[str, Any]]:
    """Per run: every summary field and the settings that differ (what --json writes)."""
    return [
        {
            "run": r.label,
            "path": str(r.path),
            "summary": r.summary,
            "settings": {k: r.config.get(k) for k in table.differing},
        }
        for r in table.runs
    ]


def table_csv(table: RunTable) -> str:
    """One row per run: every scalar summary field, then the differing settings."""
    figures = list(dict.fromkeys(k for r in table.runs for k in _scalars(r.summary)))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["run", "path", *figures, *table.differing])
    for r in table.runs:
        scalars = _scalars(r.summary)
        writer.writerow(
            [
                r.label,
                str(r.path),
                *(scalars.get(k, "") for k in figures),
                *(show(r.config.get(k)) for k in table.differing),
            ]
        )
    return buffer.getvalue()


def write_table(table: RunTable, json_path: Path | None, csv_path: Path | None, md_path: Path | None) -> list[Path]:
    """Write the requested files (each atomically); returns the paths written."""
    written = []
    if json_path:
        atomic_write_json(Path(json_path), {"differing": table.differing, "runs": table_records(table)})
        written.append(Path(json_path))
    if csv_path:
        atomic_write_text(Path(csv_path), table_csv(table))
        written.append(Path(csv_path))
    if md_path:
        atomic_write_text(Path(md_path), table_markdown(table))
        written.append(Path(md_path))
    return written


@dataclass
class RunDetail:
    path: Path
    finished: bool
    recipe: dict[str, Any]  # name, task, model of the resolved config
    figures: dict[str, Any]  # scalar summary fields
    plots: list[Path]
    reports: list[Path]
    checkpoints: list[Path]
    epochs_logged: int


def _epochs_logged(run: Path) -> int:
    return sum(1 for p in run.rglob("metrics.jsonl") for line in p.read_text(encoding="utf-8").splitlines() if line)


def show_run(run: Path) -> RunDetail:
    """One run's figures, its recipe's headline settings, and where its plots, reports and checkpoints are."""
    run = Path(run)
    target = run.resolve()
    if not target.is_dir() or not ((target / "summary.json").is_file() or (target / "config.toml").is_file()):
        raise UserError(f"{run} is not a run folder (no summary.json or config.toml); pass a folder under runs/")
    summary_path = target / "summary.json"
    summary = _read_json(summary_path) if summary_path.is_file() else {}
    config = _read_config(target)
    recipe = {k: config[k] for k in ("name", "task", "model.name", "data.root") if k in config}

    def files(pattern: str) -> list[Path]:
        return sorted(p.relative_to(target) for p in target.rglob(pattern) if not p.name.startswith("."))

    return RunDetail(
        path=run,
        finished=summary_path.is_file(),
        recipe=recipe,
        figures=_scalars(summary),
        plots=files("*.png"),
        reports=files("report.md"),
        checkpoints=files("*.pt"),
        epochs_logged=_epochs_logged(target),
    )
