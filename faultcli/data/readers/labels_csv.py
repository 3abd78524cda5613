"""A CSV of labels (columns ``file,label[,value]``); an image listed several times gets one label:
the label listed first in ``data.label_priority`` wins, then the largest ``value``, then the first row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from faultcli.errors import DataError


@dataclass
class LabelRow:
    file: str
    label: str
    value: float
    row: int  # 0-based data row, for ties and messages


def read_labels_csv(path: Path) -> list[LabelRow]:
    """Rows of a labels CSV; the file names stay as written (relative paths or bare names)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"labels CSV {path} not found; set data.labels_csv to an existing file")
    try:
        table = pd.read_csv(path, dtype={"file": str, "label": str}, skipinitialspace=True)
    except Exception as err:  # binary bytes, broken quoting: not a CSV
        raise DataError(
            f"labels CSV {path} cannot be read ({type(err).__name__}: {err}); write columns file,label[,value]"
        ) from None
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = {"file", "label"} - set(table.columns)
    if missing:
        raise DataError(
            f"labels CSV {path} lacks column(s) {', '.join(sorted(missing))}; its header must be file,label[,value]"
        )
    values = (
        pd.to_numeric(table["value"], errors="coerce")
        if "value" in table
        else pd.Series(float("nan"), index=table.index)
    )
    # an empty value ranks last; a written one that is not a finite number would be a silent guess
    written = table["value"].notna() if "value" in table else pd.Series(False, index=table.index)
    bad = written & ~np.isfinite(values.astype(float))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"labels CSV {path}: row {i + 2} has value {table['value'].iat[i]!r}, not a finite number; "
            "fix it or leave the cell empty"
        )
    rows = []
    for i, (file, label, value) in enumerate(zip(table["file"], table["label"], values, strict=True)):
        if pd.isna(file) or pd.isna(label) or not str(label).strip():
            continue  # a row without a label says nothing
        rows.append(LabelRow(str(file).strip(), str(label).strip(), float(value), i))
    return rows


def _rank(row: LabelRow, priority: Sequence[str]) -> tuple[int, float, int]:
    # smaller is better: priority position (unlisted labels after all listed), larger value, earlier row
    position = priority.index(row.label) if row.label in priority else len(priority)
    value = row.value if row.value == row.value else float("-inf")  # NaN → loses to any value
    return position, -value, row.row


def pick_label(rows: Sequence[LabelRow], priority: Sequence[str] = ()) -> str:
    """The winning label among one image's rows."""
    return min(rows, key=lambda r: _rank(r, priority)).label


def labels_by_file(rows: Sequence[LabelRow], priority: Sequence[str] = ()) -> dict[str, str]:
    """file (as written in the CSV) → winning label."""
    grouped: dict[str, list[LabelRow]] = {}
    for row in rows:
        grouped.setdefault(row.file.replace("\\", "/"), []).append(row)
    return {file: pick_label(group, priority) for file, group in grouped.items()}


def match_files(csv_files: Sequence[str], image_rels: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """Match CSV file names to images (by relative path, else by unique file name, else by unique stem).

    Returns image rel path → CSV file name, and the CSV names that match no image.
    """
    by_rel = {rel: rel for rel in image_rels}
    by_name: dict[str, list[str]] = {}
    by_stem: dict[str, list[str]] = {}
    for rel in image_rels:
        name = rel.rsplit("/", 1)[-1]
        by_name.setdefault(name, []).append(rel)
        by_stem.setdefault(name.rsplit(".", 1)[0], []).append(rel)
    matched: dict[str, str] = {}
    unmatched = []
    for file in csv_files:
        key = file.removeprefix("./")
        rel = by_rel.get(key)
        if rel is None and len(by_name.get(key, [])) == 1:
            rel = by_name[key][0]
        if rel is None and len(by_stem.get(key, [])) == 1:
            rel = by_stem[key][0]
        if rel is None:
            unmatched.append(file)
        else:
            matched[rel] = file
    return matched, unmatched
