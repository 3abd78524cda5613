"""Prepared vibration datasets: read, label, resample, window, split, normalise, cache; and load them back.

The folder format is the contract in docs/architecture.md ("Prepared datasets"). Relative
``data.root`` and ``data.cache_dir`` paths are taken from the current working directory.

Datasets may be larger than memory: preparing one holds one file's recordings at a time (the signals are
appended to ``signals.npy`` as they are read) and takes the normalisation statistics in one streaming pass;
training reads each batch's windows with ``os.pread`` (``cache.NpySpans``), so resident memory does not
grow with the dataset.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from faultcli.config.schema import DataConfig
from faultcli.data import cache, labels
from faultcli.data.rates import read_recordings
from faultcli.data.rates import resample as resample  # re-exported: part of this module's surface
from faultcli.data.readers import find_files, format_of, is_window_piece
from faultcli.data.splits import SPLITS, by_path_rule, path_roles, plan_segments
from faultcli.data.vibration_dataset import VibrationDataset as VibrationDataset  # re-exported
from faultcli.data.windows import cut_windows, window_norm, window_sums
from faultcli.errors import ConfigError, DataError
from faultcli.progress import NullReporter, Reporter

KIND = "vibration"
# bump when the folder layout or how files are read changes, so old caches miss
# (2: rate rule; 3: a columns-layout file is one pre-windowed source, split between columns)
FORMAT_VERSION = 3


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _number_or_text(value: str) -> Any:
    # a plain decimal only: float() would also read "20_0" as 200 and "nan" / "inf" as numbers
    if not _NUMBER.fullmatch(value.strip()):
        return value
    number = float(value)
    return int(number) if number.is_integer() else number


def condition_text(value: Any) -> str:
    """A metadata value as recipes write it: 2.0 → "2", NaN → ""."""
    if value is None or isinstance(value, float) and np.isnan(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _by_path_files(
    d: DataConfig, base: Path, files: list[Path], evaluating: bool
) -> tuple[list[Path], list[dict[str, str]]]:
    """by-path: the files some ``data.split_paths`` pattern matches; the others are listed, never read."""
    if d.split != "by-path":
        return files, []
    rels = [f.relative_to(base).as_posix() for f in files]
    # a folder evaluated with a trained model's recipe may hold only some splits
    roles = path_roles(rels, d.split_paths, every_pattern=not evaluating)
    if not (roles >= 0).any():
        raise DataError(f"no file under {base} matches data.split_paths (files look like {rels[0]}); fix the patterns")
    unmatched = [
        {"file": r, "reason": "matches no data.split_paths pattern"} for r, c in zip(rels, roles, strict=True) if c < 0
    ]
    return [f for f, c in zip(files, roles, strict=True) if c >= 0], unmatched


def _label_files(
    d: DataConfig, base: Path, files: list[Path]
) -> tuple[list[dict[str, Any]], list[str], list[dict[str, str]]]:
    """One dict per kept file (path, rel, label, metadata), the ordered class list, and the files skipped."""
    regex = None
    if d.label_from == "regex":
        regex = labels.compile_regex(d.label_regex, "data.label_regex")
        labels.check_label_regex(regex)
    rels = [f.relative_to(base).as_posix() for f in files]
    parsed = [labels.raw_label(rel, d.label_from, regex, root_name=base.name) for rel in rels]
    names, classes = labels.class_names([raw for raw, _ in parsed], d.label_map, d.classes, d.allow_missing_classes)
    out, skipped = [], []
    for path, rel, name, (_, groups) in zip(files, rels, names, parsed, strict=True):
        if name not in classes:
            skipped.append({"file": rel, "reason": f"label {name!r} is not one of the classes"})
            continue
        meta = labels.parse_name(rel)
        meta.update({k: _number_or_text(v) for k, v in groups.items()})
        out.append({"path": path, "rel": rel, "label": name, "meta": meta})
    return out, classes, skipped


def _counts(windows: np.ndarray, classes: list[str], split_names: list[str]) -> dict[str, dict[str, int]]:
    out = {}
    for code, name in enumerate(split_names):
        sel = windows[windows[:, 3] == code, 2]
        hist = np.bincount(sel, minlength=len(classes))
        out[name] = {c: int(hist[i]) for i, c in enumerate(classes)}
    return out


def _check_counts(d: DataConfig, counts: dict[str, dict[str, int]], required: list[str]) -> None:
    hints = {
        "recording-time": "use other data.fractions, a smaller data.window, or data.split = by-file",
        "by-condition": "change data.train_conditions / data.fractions, or drop the class with data.classes",
        "by-path": "check data.split_paths and data.fractions, or drop the class with data.classes",
    }
    hint = hints.get(d.split, "use another data.split or fewer data.folds")
    if d.allow_missing_classes:
        return
    for split in required:
        for name, n in counts[split].items():
            if n == 0:
                raise DataError(f"class {name!r} has no windows in the {split} split (data.split = {d.split}); {hint}")


PREWINDOWED_RULE = (
    "each column is taken as one window of one recording, the columns in time order: no window spans two "
    "columns, and a split keeps a file's columns whole (a time cut falls between columns, in column order)"
)


def _sources(d: DataConfig, table: pd.DataFrame) -> tuple[list[Any], list[str]]:
    """Per recording, the source a split keeps together: its file for the columns of a pre-windowed file,
    else the recording itself; and the pre-windowed files."""
    sources: list[Any] = []
    files: list[str] = []
    for i, (file, part) in enumerate(zip(table["file"], table["part"], strict=True)):
        fmt = d.format if d.format != "auto" else format_of(Path(file))
        if is_window_piece(fmt, part if isinstance(part, str) else ""):
            sources.append(file)
            if not files or files[-1] != file:
                files.append(file)
        else:
            sources.append(i)
    return sources, files


def _split_windows(
    d: DataConfig, table: pd.DataFrame, classes: list[str], signals: cache.NpySpans
) -> tuple[np.ndarray, dict[str, Any]]:
    """Windows (N, 4) and the manifest keys that describe the split: counts, norm, folds, notes.

    The statistics of any subset of windows are sums of per-window sums taken in one streaming pass."""
    conditions = None
    if d.split == "by-condition":
        if d.condition not in table.columns:
            raise ConfigError(
                f"data.condition = {d.condition!r} is not a metadata column; use one of "
                f"{', '.join(c for c in table.columns if c not in labels.RESERVED)}"
            )
        conditions = [condition_text(v) for v in table[d.condition]]
    sources, prewindowed = _sources(d, table)
    plan = plan_segments(
        d.split,
        table["length"].tolist(),
        table["label"].tolist(),
        conditions,
        fractions=d.fractions,
        seed=d.seed,
        folds=d.folds,
        condition=d.condition,
        train_conditions=d.train_conditions,
        test_conditions=d.test_conditions,
        sources=sources,
        paths=table["file"].tolist(),
        split_paths=d.split_paths,
    )
    cut = cut_windows(plan, d.window, d.step)
    windows = np.column_stack([cut[:, 0], cut[:, 1], table["class_index"].to_numpy()[cut[:, 0]], cut[:, 2]])
    offsets = table["offset"].to_numpy(dtype=np.int64)
    sums, squares = window_sums(signals.read, len(signals), offsets[windows[:, 0]] + windows[:, 1], d.window)
    info: dict[str, Any] = {"split": d.split, "notes": []}
    if prewindowed:
        how = d.csv_layout + ("" if d.csv_layout == "columns" else ": several value columns")
        info["prewindowed"] = {"files": prewindowed, "rule": PREWINDOWED_RULE}
        info["notes"].append(
            f"{len(prewindowed)} file(s) hold one window per column (data.csv_layout = {how}); {PREWINDOWED_RULE}"
        )
    if d.split == "by-path":
        split_files: dict[str, list[str]] = {s: [] for s in SPLITS}
        for file, segs in zip(table["file"], plan, strict=True):
            for code in sorted({seg[2] for seg in segs}):
                if file not in split_files[SPLITS[code]]:
                    split_files[SPLITS[code]].append(file)
        info.update(split_paths=dict(d.split_paths), split_rule=by_path_rule(d.split_paths, d.fractions))
        info["split_files"] = split_files
    elif d.split_paths:
        info["notes"].append(f"data.split_paths is not used: data.split = {d.split}, not by-path")
    if d.split == "kfold":
        names = [f"fold{k}" for k in range(d.folds)]
        counts = _counts(windows, classes, names)
        _check_counts(d, counts, names)
        held_out = [[k, (k + 1) % d.folds] for k in range(d.folds)]  # test and val folds of run k
        train = [~np.isin(windows[:, 3], held) for held in held_out]
        info["norm_folds"] = [window_norm(sums[rows], squares[rows], d.window) for rows in train]
        info.update(folds=d.folds, fold=max(d.fold, 0))
        info["norm"] = info["norm_folds"][info["fold"]]
    else:
        counts = _counts(windows, classes, list(SPLITS))
        required = [s for s, f in zip(SPLITS, d.fractions, strict=True) if f > 0]
        if d.split == "by-path":
            required = ["train", "test"] + (["val"] if "val" in d.split_paths or d.fractions[1] > 0 else [])
        if d.split == "by-condition":
            # a class seen only under training conditions is allowed; the manifest says so
            required = [s for s in required if s != "test"]
            absent = [c for c, n in counts["test"].items() if n == 0]
            if absent:
                info["missing"] = {"test": absent}
                info["notes"].append(f"classes absent from the test conditions: {', '.join(absent)}")
        _check_counts(d, counts, required)
        train = windows[:, 3] == 0
        info["norm"] = window_norm(sums[train], squares[train], d.window)
    info["counts"] = counts
    if not info["notes"]:
        del info["notes"]
    return windows.astype(np.int64, copy=False), info


def _read_signals(
    d: DataConfig, entries: list[dict[str, Any]], classes: list[str], reporter: Reporter, evaluating: bool, out: Path
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The recordings table and the reading's notes; the signals go to ``out`` (``signals.npy``) file by file,
    so memory holds one file's recordings, not the dataset's."""
    writer = cache.NpyAppender(out, np.float32)
    try:
        if evaluating:
            # a file skipped while evaluating is listed in notes of one read over every file
            table, signals, notes = read_recordings(d, entries, classes, reporter, evaluating)
            writer.append(signals)
            return table, notes
        tables, notes = [], {"skipped": [], "rate_sources": {}, "rate_warnings": []}
        with reporter.task("reading", total=len(entries)) as task:
            for entry in entries:
                part, signals, got = read_recordings(d, [entry], classes, NullReporter(), evaluating)
                part["recording"] += sum(len(t) for t in tables)
                part["offset"] += writer.size
                writer.append(signals)
                tables.append(part)
                notes["skipped"] += got["skipped"]
                notes["rate_warnings"] += got["rate_warnings"]
                for source, n in got["rate_sources"].items():
                    notes["rate_sources"][source] = notes["rate_sources"].get(source, 0) + n
                task.advance()
        table = pd.concat(tables, ignore_index=True)
        # the reader's column order: the fixed columns first, the other metadata sorted by name
        head = [c for c in tables[0].columns if c in labels.RESERVED or c in labels.METADATA]
        return table[head + sorted(c for c in table.columns if c not in head)], notes
    finally:
        writer.close()


def _write(folder: Path, table: pd.DataFrame, windows: np.ndarray, manifest: dict[str, Any]) -> None:
    """Everything but ``signals.npy``, which ``_read_signals`` wrote."""
    np.save(folder / "windows.npy", windows.astype(np.int64, copy=False))
    table.to_csv(folder / "recordings.csv", index=False)
    # last: its presence marks a complete folder (the folder itself is published by one rename)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _log_notes(manifest: dict[str, Any], reporter: Reporter) -> None:
    """What the reading decided that the user must see: skipped files, assumed rates, rate warnings."""
    for item in manifest.get("skipped", []):
        reporter.info(f"skipped {item['file']}: {item['reason']}")
    assumed = manifest.get("rate_sources", {}).get("assumed", 0)
    if assumed:
        reporter.info(
            f"{assumed} recording(s) state no sampling rate and no data.rate_patterns entry matches them: taken at "
            f"data.sample_rate = {manifest['sample_rate']} Hz (state it with data.source_rate or data.rate_patterns)"
        )
    for warning in manifest.get("rate_warnings", []):
        reporter.info(f"warning: {warning}")
    for note in manifest.get("notes", []):
        reporter.info(note)


def prepare_vibration(
    data_cfg: DataConfig, reporter: Reporter | None = None, *, evaluating: bool | None = None
) -> VibrationDataset:
    """Build (or reuse from the cache) the prepared dataset the ``[data]`` section describes.

    ``evaluating`` (default: ``data.allow_missing_classes``, which evaluation sets) reads a folder for a
    trained model: unreadable and too-short files are skipped and listed instead of stopping the read, and
    a file whose rate no rule states is an error when the recipe has rate patterns (``can_assume_rate``).
    """
    d, reporter = data_cfg, reporter or NullReporter()
    evaluating = d.allow_missing_classes if evaluating is None else evaluating
    if not d.root:
        raise ConfigError("data.root is empty; set it in the recipe or with --set data.root=FOLDER")
    if d.label_from not in ("folder", "regex", "prefix"):
        labels.raw_label("", d.label_from, None)  # raises the ConfigError that names the choices
    root = Path(d.root).expanduser()
    files = find_files(root, d.format, d.include, d.exclude)
    base = root.parent if root.is_file() else root
    files, unmatched = _by_path_files(d, base, files, evaluating)
    entries, classes, skipped = _label_files(d, base, files)
    skipped = unmatched + skipped
    reporter.info(
        f"{len(entries)} files, {len(classes)} classes under {root}" + (f"; {len(skipped)} skipped" if skipped else "")
    )

    with reporter.task("hashing", total=len(entries)) as task:
        for entry in entries:
            entry["sha1"] = cache.file_sha1(entry["path"])
            task.advance()
    extra = {"format": FORMAT_VERSION, **({"evaluating": True} if evaluating else {})}
    key = cache.dataset_key(KIND, dataclasses.asdict(d), [f"{e['rel']}:{e['sha1']}" for e in entries], extra)
    root_dir = cache.cache_root(d.cache_dir)
    final = root_dir / KIND / key
    if (final / "manifest.json").is_file():
        reporter.info(f"reusing prepared dataset {final}")
        ds = dataclasses.replace(VibrationDataset.load(final), cache_hit=True)
        _log_notes(ds.manifest, reporter)
        return ds

    staging = cache.staging_dir(root_dir)
    try:
        table, notes = _read_signals(d, entries, classes, reporter, evaluating, staging / "signals.npy")
        windows, info = _split_windows(d, table, classes, cache.NpySpans(staging / "signals.npy"))
        manifest = {
            "kind": KIND,
            "key": key,
            "format_version": FORMAT_VERSION,
            "classes": classes,
            "sample_rate": d.sample_rate,
            "window": d.window,
            "step": d.step,
            "channel": d.channel,
            "root": str(root.resolve()),
            "n_recordings": len(table),
            "sources": [{"file": e["rel"], "sha1": e["sha1"]} for e in entries],
            **info,
            **notes,
            "skipped": skipped + notes["skipped"],
        }
        _write(staging, table, windows, manifest)
        cache.publish_folder(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _log_notes(manifest, reporter)
    return VibrationDataset.load(final)
