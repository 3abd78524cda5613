"""Split rules: which samples of which recording go to train, val and test (or to which fold).

Every rule keeps a recording's samples apart between splits: whole recordings per split, or time
segments of one recording with windows cut inside each segment. Overlapping windows cut first and
split at random would leak into the test set.
"""

from __future__ import annotations

from collections.abc import Sequence

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
) -> list[list[Segment]]:
    """The segments of every recording under ``strategy`` (recording-time, by-file, stratified, by-condition,
    kfold). For kfold the segment's split is the recording's fold number."""
    if strategy == "recording-time":
        return [time_segments(n, fractions) for n in lengths]
    if strategy in ("by-file", "stratified"):
        codes = split_by_file(labels, fractions, seed)
        return [[(0, n, int(c))] for n, c in zip(lengths, codes, strict=True)]
    if strategy == "kfold":
        codes = split_kfold(labels, folds, seed)
        return [[(0, n, int(c))] for n, c in zip(lengths, codes, strict=True)]
    if strategy == "by-condition":
        assert conditions is not None
        roles = condition_roles(conditions, condition, train_conditions, test_conditions)
        fit = fractions[0] + fractions[1]
        if fit <= 0:
            raise ConfigError(
                "data.fractions gives nothing to train and val; by-condition splits the train "
                "conditions' recordings by time with the first two fractions"
            )
        inner = [fractions[0] / fit, fractions[1] / fit, 0.0]
        plan: list[list[Segment]] = []
        for n, role in zip(lengths, roles, strict=True):
            if role == 3:
                plan.append(time_segments(n, fractions))
            else:
                plan.append(time_segments(n, inner) if role == 0 else [(0, n, 2)] if role == 2 else [])
        return plan
    raise ConfigError(f"data.split = {strategy!r} is unknown; use recording-time, by-file, by-condition or kfold")
