"""Windows and split rules: segments, stratification, folds and conditions."""

from __future__ import annotations

import numpy as np
import pytest

from faultcli.data.splits import condition_roles, plan_segments, split_by_file, split_kfold, time_segments
from faultcli.data.windows import cut_windows, window_starts
from faultcli.errors import ConfigError, DataError


def test_window_starts_fit_inside_the_segment():
    starts = window_starts(100, 400, 64, 32)
    assert starts[0] == 100 and starts[-1] + 64 <= 400 and starts[-1] + 32 + 64 > 400
    assert window_starts(0, 63, 64, 1).size == 0


def test_time_segments_cover_the_recording_in_order():
    segs = time_segments(1000, [0.7, 0.15, 0.15])
    assert segs == [(0, 700, 0), (700, 850, 1), (850, 1000, 2)]
    assert time_segments(1000, [0.8, 0.0, 0.2]) == [(0, 800, 0), (800, 1000, 2)]


def test_cut_windows_never_cross_a_segment_boundary():
    windows = cut_windows([time_segments(1000, [0.7, 0.15, 0.15])], window=100, step=30)
    bounds = {0: (0, 700), 1: (700, 850), 2: (850, 1000)}
    for _, start, split in windows:
        lo, hi = bounds[split]
        assert lo <= start and start + 100 <= hi


def test_by_file_is_stratified_seeded_and_whole():
    labels = ["a"] * 5 + ["b"] * 4
    codes = split_by_file(labels, [0.6, 0.2, 0.2], seed=1)
    for cls in ("a", "b"):
        sel = codes[np.asarray(labels) == cls]
        assert set(sel) == {0, 1, 2}
    np.testing.assert_array_equal(codes, split_by_file(labels, [0.6, 0.2, 0.2], seed=1))


def test_by_file_with_too_few_recordings_suggests_recording_time():
    with pytest.raises(DataError, match="class 'n' has 2 recording.*data.split = recording-time"):
        split_by_file(["n", "n", "f", "f", "f"], [0.7, 0.15, 0.15], seed=0)


def test_kfold_puts_every_class_in_every_fold():
    labels = ["a"] * 7 + ["b"] * 5
    folds = split_kfold(labels, 5, seed=0)
    for cls in ("a", "b"):
        assert set(folds[np.asarray(labels) == cls]) == set(range(5))
    with pytest.raises(DataError, match="class 'b' has 5 recording.*data.folds = 6"):
        split_kfold(labels, 6, seed=0)


def test_condition_roles():
    roles = condition_roles(["0", "1", "2", "3"], "load", ["0", "1"], ["3"])
    np.testing.assert_array_equal(roles, [0, 0, -1, 2])
    np.testing.assert_array_equal(condition_roles(["0", "1", "3"], "load", [], ["3"]), [0, 0, 2])
    with pytest.raises(ConfigError, match="data.test_conditions is empty.*found: 0, 1"):
        condition_roles(["0", "1"], "load", [], [])
    with pytest.raises(DataError, match="data.test_conditions lists 7 but no recording has that load"):
        condition_roles(["0", "1"], "load", [], ["7"])
    with pytest.raises(ConfigError, match="in both"):
        condition_roles(["0", "1"], "load", ["1"], ["1"])


def test_by_condition_splits_train_recordings_by_time_and_keeps_test_whole():
    plan = plan_segments(
        "by-condition",
        [1000, 1000],
        ["a", "a"],
        ["0", "3"],
        fractions=[0.7, 0.15, 0.15],
        seed=0,
        folds=5,
        test_conditions=["3"],
    )
    assert [s[2] for s in plan[0]] == [0, 1]
    assert plan[0][-1][1] == 1000 and abs(plan[0][0][1] - 1000 * 0.7 / 0.85) <= 1
    assert plan[1] == [(0, 1000, 2)]


def test_by_condition_cuts_recordings_without_a_condition_value_in_time():
    from faultcli.data.splits import plan_segments

    plan = plan_segments(
        "by-condition",
        [1000, 1000, 1000],
        ["normal", "ball", "ball"],
        ["", "0.007", "0.014"],
        fractions=[0.6, 0.2, 0.2],
        seed=0,
        folds=2,
        condition="size",
        train_conditions=["0.007"],
        test_conditions=["0.014"],
    )
    assert sorted({seg[2] for seg in plan[0]}) == [0, 1, 2]  # healthy baseline: train, val and test in time
    assert {seg[2] for seg in plan[1]} <= {0, 1} and {seg[2] for seg in plan[2]} == {2}
