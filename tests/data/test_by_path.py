"""by-path splits, pre-windowed CSV files (one window per column) and cross-condition splits from file names.

Fixtures reproduce the Bearing-CLIP layout of the SEU bearing set: ``train_set/<state><speed>_<load>_train.csv``
and ``test_set/<state><speed>_<load>_test.csv``, no header, one window per column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from faultcli.config.schema import DataConfig
from faultcli.data.splits import path_roles, plan_segments, source_segments
from faultcli.data.vibration import prepare_vibration
from faultcli.errors import ConfigError, DataError

STATES = ("health", "ball", "inner")
CONDITIONS = ("20_0", "30_2")
SEU_REGEX = r"^(?P<label>[a-z]+)(?P<speed>\d+)_(?P<load>\d+)_"
BY_PATH = {"train": "train_set/*", "test": "test_set/*"}


def write_windows(path: Path, columns: np.ndarray) -> None:
    """A header-less CSV whose column j is window j (rows = samples)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, columns, delimiter=",", fmt="%.6f")


def wave(rows: int) -> np.ndarray:
    """The fractional part of every column: the same wave, in sample order (never an index-like progression)."""
    return 0.5 + 0.4 * np.sin(0.37 * np.arange(rows))


def make_seu(root: Path, rows: int = 64, cols: int = 5) -> Path:
    """Every state × condition, a train and a test file; a value's integer part names its file and column."""
    for fi, (state, cond) in enumerate((s, c) for s in STATES for c in CONDITIONS):
        for split in ("train", "test"):
            ident = np.arange(cols) + 10 * fi + (5 if split == "test" else 0)
            write_windows(root / f"{split}_set" / f"{state}{cond}_{split}.csv", ident[None, :] + wave(rows)[:, None])
    return root


def seu_cfg(root: Path, **kw) -> DataConfig:
    base = {
        "root": str(root),
        "format": "csv",
        "csv_layout": "columns",
        "label_from": "regex",
        "label_regex": SEU_REGEX,
        "sample_rate": 5000,
        "source_rate": 5000,
        "window": 64,
        "step": 64,
        "split": "by-path",
        "split_paths": BY_PATH,
        "cache_dir": str(root.parent / "cache"),
    }
    return DataConfig(**{**base, **kw})


@pytest.fixture
def seu_root(tmp_path) -> Path:
    return make_seu(tmp_path / "seu")


def _files(ds, split: str) -> set[str]:
    return set(ds.recordings.loc[ds.recording_for(ds.indices(split)), "file"])


# --- split rules -------------------------------------------------------------------------------------------


def test_path_roles_assign_each_file_to_the_split_its_pattern_matches():
    paths = ["train_set/a_train.csv", "test_set/a_test.csv", "val_set/a.csv", "notes/x.csv"]
    roles = path_roles(paths, {"train": "train_set/*", "val": "val_set/*", "test": "test_set/*"})
    np.testing.assert_array_equal(roles, [0, 2, 1, -1])


def test_a_file_matched_by_two_patterns_is_named():
    with pytest.raises(ConfigError, match=r"file train_set/a_train.csv matches data.split_paths train .* and test"):
        path_roles(["train_set/a_train.csv"], {"train": "train_set/*", "test": "*a_*"})


@pytest.mark.parametrize(
    ("split_paths", "message"),
    [
        ({}, r"data.split = by-path needs data.split_paths, e.g. \{train = "),
        ({"train": "a/*", "tset": "b/*"}, "data.split_paths key 'tset' is not a split; use train, val and test"),
        ({"train": "a/*"}, "data.split_paths has no test pattern"),
    ],
)
def test_bad_split_paths_are_config_errors(split_paths, message):
    with pytest.raises(ConfigError, match=message):
        path_roles(["a/x.csv", "b/y.csv"], split_paths)


def test_a_pattern_matching_no_file_is_an_error_unless_evaluating():
    with pytest.raises(DataError, match=r"data.split_paths test = 'tests/\*' matches no file .*a/x.csv"):
        path_roles(["a/x.csv"], {"train": "a/*", "test": "tests/*"})
    np.testing.assert_array_equal(path_roles(["a/x.csv"], {"train": "a/*", "test": "t/*"}, every_pattern=False), [0])


def test_pieces_of_a_source_are_cut_between_pieces_in_order():
    assert source_segments([64] * 10, [0.7, 0.2, 0.1]) == [[(0, 64, 0)]] * 7 + [[(0, 64, 1)]] * 2 + [[(0, 64, 2)]]
    assert source_segments([1000], [0.7, 0.3, 0.0]) == [[(0, 700, 0), (700, 1000, 1)]]  # one recording: in samples
    assert source_segments([64, 64], 2) == [[(0, 64, 2)], [(0, 64, 2)]]
    assert source_segments([64], -1) == [[]]


def test_by_path_plan_cuts_train_files_into_train_and_val_and_keeps_test_whole():
    sources = ["tr.csv"] * 10 + ["te.csv"] * 4
    plan = plan_segments(
        "by-path",
        [64] * 14,
        ["a"] * 14,
        None,
        fractions=[0.8, 0.2, 0.0],
        seed=0,
        folds=5,
        sources=sources,
        paths=sources,
        split_paths={"train": "tr*", "test": "te*"},
    )
    assert [p[0][2] for p in plan] == [0] * 8 + [1] * 2 + [2] * 4  # train:val = 0.8:0.2 of the train file


def test_by_file_keeps_all_columns_of_a_prewindowed_file_together():
    sources = [f"f{i // 5}" for i in range(40)]  # 8 files of 5 columns, 2 classes
    labels = ["a"] * 20 + ["b"] * 20
    plan = plan_segments(
        "by-file", [64] * 40, labels, None, fractions=[0.5, 0.25, 0.25], seed=3, folds=5, sources=sources
    )
    for f in range(8):
        assert len({plan[i][0][2] for i in range(5 * f, 5 * f + 5)}) == 1


# --- pre-windowed CSV files through prepare_vibration ----------------------------------------------------------


def test_each_column_is_exactly_one_window(seu_root):
    ds = prepare_vibration(seu_cfg(seu_root))
    n_files = len(STATES) * len(CONDITIONS)
    assert len(ds.recordings) == 2 * n_files * 5 and set(ds.recordings["length"]) == {64}
    assert len(ds.indices("train")) + len(ds.indices("val")) == n_files * 5
    assert len(ds.indices("test")) == n_files * 5
    x = ds.signals_for(np.arange(len(ds.windows)))
    # every window is one whole column: one integer part throughout, its samples in order
    assert np.allclose(np.ptp(np.floor(x), axis=1), 0)
    np.testing.assert_allclose(x - np.floor(x), np.tile(wave(64), (len(x), 1)), atol=1e-5)
    assert len(np.unique(np.floor(x[:, 0]))) == len(x)  # and every column exactly once
    assert ds.manifest["prewindowed"]["files"] == sorted(set(ds.recordings["file"]))
    assert any("one window per column" in note for note in ds.manifest["notes"])


def test_smaller_windows_never_cross_a_column(seu_root):
    ds = prepare_vibration(seu_cfg(seu_root, window=32, step=16))
    x = ds.signals_for(np.arange(len(ds.windows)))
    assert len(ds.windows) == len(ds.recordings) * 3  # starts 0, 16, 32 inside each 64-sample column
    assert np.allclose(np.ptp(np.floor(x), axis=1), 0)


def test_by_path_uses_the_data_sets_own_split_and_cuts_val_from_the_last_columns(seu_root):
    ds = prepare_vibration(seu_cfg(seu_root, fractions=[0.6, 0.2, 0.2]))
    assert all(f.startswith("test_set/") for f in _files(ds, "test"))
    assert all(f.startswith("train_set/") for f in _files(ds, "train") | _files(ds, "val"))
    parts = ds.recordings.loc[ds.recording_for(ds.indices("val")), "part"]
    assert set(parts) == {"col4"}  # 0.6 : 0.2 of 5 columns: the first four train, the last one val
    counts = ds.manifest["counts"]
    assert counts["train"] == {"ball": 8, "health": 8, "inner": 8} and counts["test"]["ball"] == 10
    assert ds.manifest["split_paths"] == BY_PATH
    assert "first 75.0% to train" in ds.manifest["split_rule"]
    assert ds.manifest["split_files"]["test"] == sorted(_files(ds, "test"))
    train_mean = ds.signals_for(ds.indices("train")).astype(np.float64).mean()
    assert ds.norm()[0] == pytest.approx(train_mean, rel=1e-6)  # train windows only


def test_a_val_pattern_replaces_the_time_cut(seu_root):
    split_paths = {"train": "train_set/*20_0*", "val": "train_set/*30_2*", "test": "test_set/*"}
    ds = prepare_vibration(seu_cfg(seu_root, split_paths=split_paths))
    assert all("30_2" in f for f in _files(ds, "val")) and all("20_0" in f for f in _files(ds, "train"))
    assert "val files are those the val pattern matches" in ds.manifest["split_rule"]


def test_files_no_pattern_matches_are_listed_and_not_read(seu_root):
    (seu_root / "readme.csv").write_text("not,a,number\n")
    ds = prepare_vibration(seu_cfg(seu_root))
    assert {"file": "readme.csv", "reason": "matches no data.split_paths pattern"} in ds.manifest["skipped"]
    assert "readme.csv" not in set(ds.recordings["file"])


def test_overlapping_patterns_and_missing_split_paths_stop_before_reading(seu_root):
    with pytest.raises(ConfigError, match="file test_set/ball20_0_test.csv matches data.split_paths train"):
        prepare_vibration(seu_cfg(seu_root, split_paths={"train": "*", "test": "test_set/*"}))
    with pytest.raises(ConfigError, match="data.split = by-path needs data.split_paths"):
        prepare_vibration(seu_cfg(seu_root, split_paths={}))
    with pytest.raises(DataError, match=r"no file under .* matches data.split_paths"):
        prepare_vibration(seu_cfg(seu_root, split_paths={"train": "x/*", "test": "y/*"}), evaluating=True)


def test_evaluating_a_folder_that_holds_only_some_splits(seu_root):
    split_paths = {"train": "train_set/*", "val": "val_set/*", "test": "test_set/*"}
    ds = prepare_vibration(seu_cfg(seu_root, split_paths=split_paths, allow_missing_classes=True))  # as eval sets
    assert len(ds.indices("val")) == 0 and len(ds.indices("test")) == 30


def test_split_paths_under_another_split_is_noted(seu_root):
    ds = prepare_vibration(seu_cfg(seu_root, split="by-file", fractions=[0.5, 0.25, 0.25]))
    assert "data.split_paths is not used: data.split = by-file, not by-path" in ds.manifest["notes"]
    for file in set(ds.recordings["file"]):  # by-file: all windows of a file in one split
        rows = np.flatnonzero(ds.recordings["file"].to_numpy()[ds.windows[:, 0]] == file)
        assert len(set(ds.windows[rows, 3])) == 1


# --- cross-condition from regex groups ---------------------------------------------------------------------


def test_cross_condition_trains_on_one_speed_and_tests_on_the_other(seu_root):
    d = seu_cfg(
        seu_root,
        split="by-condition",
        split_paths={},
        condition="speed",
        train_conditions=["20"],
        test_conditions=["30"],
        include=["train_set/*20_0_*", "test_set/*30_2_*"],
        fractions=[0.8, 0.2, 0.0],
    )
    ds = prepare_vibration(d)
    assert _files(ds, "train") == _files(ds, "val") == {f"train_set/{s}20_0_train.csv" for s in STATES}
    assert _files(ds, "test") == {f"test_set/{s}30_2_test.csv" for s in STATES}
    assert ds.manifest["counts"]["val"] == {"ball": 1, "health": 1, "inner": 1}  # the last of 5 columns
    assert set(ds.recordings["load"]) == {0, 2}


def test_a_combined_condition_group_keeps_its_text(seu_root):
    regex = r"^(?P<label>[a-z]+)(?P<op>(?P<speed>\d+)_(?P<load>\d+))_"
    d = seu_cfg(
        seu_root,
        label_regex=regex,
        split="by-condition",
        split_paths={},
        condition="op",
        train_conditions=["20_0"],
        test_conditions=["30_2"],
        include=["train_set/*", "test_set/*30_2_*"],
        fractions=[0.8, 0.2, 0.0],
    )
    ds = prepare_vibration(d)
    assert set(ds.recordings["op"]) == {"20_0", "30_2"}  # not read as the number 200
    assert all("30_2" in f for f in _files(ds, "test")) and all("20_0" in f for f in _files(ds, "train"))


# --- the real set -------------------------------------------------------------------------------------------


@pytest.mark.realdata
def test_real_seu_bearing_set_as_bearing_clip_ships_it(shared_data, tmp_path):
    root = shared_data / "seu-bearing"
    if not root.is_dir():
        pytest.skip("seu-bearing is not present")
    d = seu_cfg(root, window=1024, step=1024, cache_dir=str(tmp_path / "cache"))
    ds = prepare_vibration(d)
    assert ds.classes == ["ball", "comb", "health", "inner", "outer"]
    train_val = np.concatenate([ds.indices("train"), ds.indices("val")])
    assert len(train_val) == 1000 and len(ds.indices("test")) == 1000
    assert ds.manifest["split_files"]["test"] == sorted(f"test_set/{p.name}" for p in (root / "test_set").iterdir())
    per_file = ds.recordings.loc[ds.recording_for(np.arange(len(ds.windows))), "file"].value_counts()
    assert len(per_file) == 20 and set(per_file) == {100}
    assert set(ds.recordings["speed"]) == {20, 30} and set(ds.recordings["load"]) == {0, 2}
