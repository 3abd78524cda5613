"""Split rules: which samples of which recording go to train, val and test (or to which fold).

Every rule keeps a recording's samples apart between splits: whole recordings per split, or time
segments of one recording with windows cut inside each segment. Overlapping windows cut first and
split at random would leak into the test set. A pre-windowed file (one window per column) is one
source: its pieces go to a split together, and "time" within it is the piece order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatch
from typing import Any

import numpy as np

from faultcli.data.windows import Segment
from faultcli.errors import ConfigError, DataError

SPLITS = ("train", "val", "test")


def active_fold(split: str, fold: int) -> int | None:
    """The k-fold fold a recipe's data are seen through (``data.split``, ``data.fold``); None otherwise."""
    return fold if split == "kfold" and fold >= 0 else None


def time_segments(length: int, fractions: Sequence[float]) -> list[Segment]:
    """Consecutive train / val / test segments of one recording, in time order; empty ones left out."""
    b1 = int(round(fractions[0] * length))
    b2 = int(round((fractions[0] + fractions[1]) * length))
    segs = [(0, b1, 0), (b1, b2, 1), (b2, length, 2)]
    return [s for s in segs if s[1] > s[0]]


def _by_class(labels: Sequence[str]) -> dict[str, np.ndarray]:
    arr = np.asarray(labels)
    return {c: np.flatnonzero(arr == c) for c in sorted(set(labels))}


def split_by_file(labels: Sequence[str], fractions: Sequence[float], seed: int) -> np.ndarray:
    """Split code per recording, stratified by class: each class gives whole recordings to each split."""
    rng = np.random.default_rng(seed)
    out = np.zeros(len(labels), dtype=np.int64)
    wanted = [i for i, f in enumerate(fractions) if f > 0]
    for label, idx in _by_class(labels).items():
        n = idx.size
        n_val = max(1, round(fractions[1] * n)) if fractions[1] > 0 else 0
        n_test = max(1, round(fractions[2] * n)) if fractions[2] > 0 else 0
        n_train = n - n_val - n_test
        if n_train < (1 if fractions[0] > 0 else 0):
            names = ", ".join(SPLITS[i] for i in wanted)
            raise DataError(
                f"class {label!r} has {n} recording(s), too few for data.split = by-file "
                f"(one per split: {names}); use data.split = recording-time to split each "
                "recording by time"
            )
        order = rng.permutation(idx)
        out[order[:n_train]] = 0
        out[order[n_train : n_train + n_val]] = 1
        out[order[n_train + n_val :]] = 2
    return out


def split_kfold(labels: Sequence[str], folds: int, seed: int) -> np.ndarray:
    """Fold number per recording, stratified by class (round robin over a seeded shuffle)."""
    rng = np.random.default_rng(seed)
    out = np.zeros(len(labels), dtype=np.int64)
    start = 0
    for label, idx in _by_class(labels).items():
        if idx.size < folds:
            raise DataError(
                f"class {label!r} has {idx.size} recording(s) but data.folds = {folds} needs at least "
                f"{folds}; use fewer data.folds or data.split = recording-time"
            )
        # a running start spreads each class's remainder over different folds
        out[rng.permutation(idx)] = (start + np.arange(idx.size)) % folds
        start += idx.size
    return out


def condition_roles(
    values: Sequence[str], condition: str, train_conditions: Sequence[str], test_conditions: Sequence[str]
) -> np.ndarray:
    """Per recording: 0 train (split later by time into train/val), 2 test, 3 no condition value, -1 unused.

    A recording without a value for the condition (e.g. the healthy baseline has no fault size) is cut
    in time into train / val / test like recording-time, so its class is seen on both sides.
    """
    found = ", ".join(sorted(set(values)))
    if not test_conditions:
        raise ConfigError(f"data.test_conditions is empty; list the {condition} values to test on (found: {found})")
    both = sorted(set(train_conditions) & set(test_conditions))
    if both:
        raise ConfigError(
            f"{condition} value(s) {', '.join(both)} are in both data.train_conditions and "
            "data.test_conditions; a condition must be train or test, not both"
        )
    for key, listed in (("data.train_conditions", train_conditions), ("data.test_conditions", test_conditions)):
        missing = [v for v in listed if v not in set(values)]
        if missing:
            raise DataError(
                f"{key} lists {', '.join(missing)} but no recording has that {condition} "
                f"(found: {found}); fix the list or data.condition"
            )
    roles = np.full(len(values), -1, dtype=np.int64)
    for i, value in enumerate(values):
        if value == "":
            roles[i] = 3
        elif value in test_conditions:
            roles[i] = 2
        elif not train_conditions or value in train_conditions:
            roles[i] = 0
    return roles


def path_roles(paths: Sequence[str], split_paths: Mapping[str, str], *, every_pattern: bool = True) -> np.ndarray:
    """Per file: the split (0 train, 1 val, 2 test) whose ``data.split_paths`` glob matches it, -1 for none.

    Globs are fnmatch patterns on the path relative to ``data.root`` (as ``data.include``). A file matched by
    two splits' patterns, a train or test split without a pattern, and (``every_pattern``) a pattern
    matching no file are errors.
    """
    if not split_paths:
        raise ConfigError(
            "data.split = by-path needs data.split_paths, e.g. {train = 'train_set/*', test = 'test_set/*'}; "
            "set it or choose another data.split"
        )
    unknown = [k for k in split_paths if k not in SPLITS]
    if unknown:
        raise ConfigError(f"data.split_paths key {unknown[0]!r} is not a split; use train, val and test")
    for split in ("train", "test"):
        if not split_paths.get(split):
            raise ConfigError(
                f"data.split_paths has no {split} pattern; add one, e.g. {split} = '{split}_set/*' "
                "(val is optional: without it, val is cut by time from the train files)"
            )
    roles = np.full(len(paths), -1, dtype=np.int64)
    for i, path in enumerate(paths):
        hits = [s for s in SPLITS if s in split_paths and fnmatch(path, split_paths[s])]
        if len(hits) > 1:
            a, b = hits[:2]
            raise ConfigError(
                f"file {path} matches data.split_paths {a} ({split_paths[a]!r}) and {b} ({split_paths[b]!r}); "
                "make the patterns match each file at most once"
            )
        if hits:
            roles[i] = SPLITS.index(hits[0])
    for split, pattern in split_paths.items():
        if every_pattern and not (roles == SPLITS.index(split)).any():
            example = f" (files look like {paths[0]})" if len(paths) else ""
            raise DataError(
                f"data.split_paths {split} = {pattern!r} matches no file under data.root{example}; fix the pattern"
            )
    return roles


def by_path_rule(split_paths: Mapping[str, str], fractions: Sequence[float]) -> str:
    """The by-path rule in words, for the manifest."""
    patterns = ", ".join(f"{k} = {v!r}" for k, v in split_paths.items())
    if "val" in split_paths:
        val = "val files are those the val pattern matches"
    else:
        share = fit_fractions(fractions, "by-path")[0]
        val = (
            f"no val pattern: each train file is cut by time, the first {share:.1%} to train and the rest to val "
            "(column order for pre-windowed files)"
        )
    return f"by-path: each file goes to the split whose pattern it matches ({patterns}); {val}"


def fit_fractions(fractions: Sequence[float], strategy: str) -> list[float]:
    """The train / val shares of ``fractions`` rescaled to sum to 1: how train sources are cut into train and val."""
    fit = fractions[0] + fractions[1]
    if fit <= 0:
        raise ConfigError(
            f"data.fractions gives nothing to train and val; {strategy} splits the training recordings by time "
            "with the first two fractions"
        )
    return [fractions[0] / fit, fractions[1] / fit, 0.0]


# how one source is split: a split code for all of it (-1: unused), or fractions to cut it by time
Rule = int | Sequence[float]


def source_segments(pieces: Sequence[int], rule: Rule) -> list[list[Segment]]:
    """Segments of each recording of one source under ``rule``.

    A source of one recording is cut by time in samples; a source of several pieces (a pre-windowed
    file: consecutive windows of one recording, in order) is cut between pieces, in piece order, so
    each piece stays whole and no window spans two pieces.
    """
    if isinstance(rule, int):
        return [[(0, n, rule)] if rule >= 0 else [] for n in pieces]
    if len(pieces) == 1:
        return [time_segments(pieces[0], rule)]
    out: list[list[Segment]] = [[] for _ in pieces]
    for lo, hi, split in time_segments(len(pieces), rule):
        for i in range(lo, hi):
            out[i] = [(0, pieces[i], split)]
    return out


def _group(n: int, sources: Sequence[Any] | None) -> list[list[int]]:
    """Recording indices per source, sources in order of first appearance, pieces in reading order."""
    if sources is None:
        return [[i] for i in range(n)]
    groups: dict[Any, list[int]] = {}
    for i, source in enumerate(sources):
        groups.setdefault(source, []).append(i)
    return list(groups.values())


def plan_segments(
    strategy: str,
    lengths: Sequence[int],
    labels: Sequence[str],
    conditions: Sequence[str] | None,
    *,
    fractions: Sequence[float],
    seed: int,
    folds: int,
    condition: str = "load",
    train_conditions: Sequence[str] = (),
    test_conditions: Sequence[str] = (),
    sources: Sequence[Any] | None = None,
    paths: Sequence[str] | None = None,
    split_paths: Mapping[str, str] | None = None,
) -> list[list[Segment]]:
    """The segments of every recording under ``strategy`` (recording-time, by-file, stratified, by-condition,
    by-path, kfold). For kfold the segment's split is the recording's fold number.

    ``sources``: per recording, the source it belongs to; recordings sharing one are the pieces of a
    pre-windowed file, in order, and are split together (None: every recording its own source). Labels,
    conditions and paths are read from a source's first recording. ``paths`` / ``split_paths``: by-path.
    """
    groups = _group(len(lengths), sources)
    first = [g[0] for g in groups]
    source_labels = [labels[i] for i in first]
    rules: list[Rule]
    if strategy == "recording-time":
        rules = [list(fractions)] * len(groups)
    elif strategy in ("by-file", "stratified"):
        rules = [int(c) for c in split_by_file(source_labels, fractions, seed)]
    elif strategy == "kfold":
        rules = [int(c) for c in split_kfold(source_labels, folds, seed)]
    elif strategy == "by-condition":
        assert conditions is not None
        roles = condition_roles([conditions[i] for i in first], condition, train_conditions, test_conditions)
        inner = fit_fractions(fractions, "by-condition")
        rules = [list(fractions) if r == 3 else inner if r == 0 else int(r) for r in roles]
    elif strategy == "by-path":
        assert paths is not None
        # whether every pattern matches a file is checked on the folder's files, before labels drop some
        roles = path_roles([paths[i] for i in first], split_paths or {}, every_pattern=False)
        # without a val pattern, val is cut by time from each train file
        inner = None if "val" in (split_paths or {}) else fit_fractions(fractions, "by-path")
        rules = [inner if r == 0 and inner is not None else int(r) for r in roles]
    else:
        raise ConfigError(
            f"data.split = {strategy!r} is unknown; use recording-time, by-file, by-condition, by-path or kfold"
        )
    plan: list[list[Segment]] = [[] for _ in lengths]
    for group, rule in zip(groups, rules, strict=True):
        for i, segs in zip(group, source_segments([lengths[i] for i in group], rule), strict=True):
            plan[i] = segs
    return plan
