"""What ``faultcli predict`` writes, streamed row by row so a folder of thousands of files runs in bounded
memory: ``predictions.csv`` (per window or image), ``per_recording.csv`` (verdicts), masks and an RLE CSV
for segmenters, and a short ``report.md``."""

from __future__ import annotations

import csv
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from faultcli.runs import atomic_write_text, fsync_dir


class CsvStream:
    """A CSV file written one batch of rows at a time (header first) into a temporary file beside it, renamed
    into place by ``close``: the file is whole or absent, however the run ends."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path, self.columns, self.rows = Path(path), columns, 0
        self._tmp = self.path.with_name(f".{self.path.name}.tmp")
        self._handle = open(self._tmp, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed by close()
        self._writer = csv.writer(self._handle)
        self._writer.writerow(columns)

    def write(self, rows: list[list[Any]]) -> None:
        self._writer.writerows(rows)
        self._handle.flush()
        self.rows += len(rows)

    def close(self) -> None:
        if self._handle.closed:
            return
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        os.replace(self._tmp, self.path)
        fsync_dir(self.path.parent)


def verdict_row(name: str, probs: np.ndarray, classes: list[str], extra: list[Any]) -> list[Any]:
    """One recording's verdicts: by majority vote of its windows and by their mean probability."""
    votes = np.bincount(probs.argmax(1), minlength=len(classes))
    mean = probs.mean(axis=0)
    vote, by_mean = int(votes.argmax()), int(mean.argmax())
    return [
        name,
        len(probs),
        classes[vote],
        round(float(votes[vote] / len(probs)), 4),  # share of windows that agree with the vote
        classes[by_mean],
        round(float(mean[by_mean]), 5),  # the mean-probability verdict's confidence
        *extra,
        *(round(float(p), 5) for p in mean),
    ]


VERDICT_COLUMNS = ["file", "windows", "verdict_vote", "agreement", "verdict_mean", "confidence"]
VIBRATION_EXTRA = ["rate", "rate_from", "rpm", "warning"]


class Tally:
    """Counts for the report: verdicts per class, skipped files, warnings, rate sources."""

    def __init__(self) -> None:
        self.verdicts: Counter[str] = Counter()
        self.skipped: list[tuple[str, str]] = []
        self.warnings: list[str] = []
        self.rate_from: Counter[str] = Counter()
        self.units = 0  # windows or images predicted


def write_report(path: Path, summary: dict[str, Any], tally: Tally, unit: str) -> None:
    """A short markdown report: what was predicted with what, the verdicts, and what was skipped or doubtful."""
    lines = [
        f"# Predictions of {summary['model']}",
        "",
        f"- model: `{summary['model_path']}` ({summary['runtime']}, {summary['task']})",
        f"- input: `{summary['input']}`: {summary['files']} file(s), {summary['predicted_files']} predicted, "
        f"{len(tally.skipped)} skipped",
        f"- {tally.units} {unit} in {summary['seconds']:.1f} s; peak memory {summary['peak_rss_mb']:.0f} MB",
    ]
    if tally.rate_from:
        how = ", ".join(f"{n} from {k}" for k, n in sorted(tally.rate_from.items()))
        lines.append(f"- sampling rates: {how}")
    if tally.rate_from.get("assumed"):
        lines.append(
            f"- {tally.rate_from['assumed']} recording(s) state no sampling rate and match no rate pattern: taken at "
            f"the model's {summary['model_rate']} Hz (pass --sample-rate to state it)"
        )
    if tally.verdicts:
        lines += ["", "## Verdicts", "", "| class | files |", "|---|---|"]
        lines += [f"| {c} | {n} |" for c, n in tally.verdicts.most_common()]
    if tally.warnings:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in tally.warnings]
    if tally.skipped:
        lines += ["", "## Skipped files", "", "| file | reason |", "|---|---|"]
        lines += [f"| {f} | {r} |" for f, r in tally.skipped]
    atomic_write_text(path, "\n".join(lines) + "\n")
