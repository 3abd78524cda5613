"""prepare_vibration end to end on generated recordings: format, resampling, splits without leaks, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from faultcli.config.schema import DataConfig
from faultcli.data.vibration import VibrationDataset, prepare_vibration, resample
from faultcli.errors import ConfigError, DataError


def make_recordings(root: Path, classes=("ball", "inner", "normal"), loads=(0, 1, 2, 3), length=3000) -> Path:
    """``root/<class>/<class>_<load>hp.npy``: one sine per class, a little noise, one recording per load."""
    rng = np.random.default_rng(0)
    t = np.arange(length) / 12000
    for ci, cls in enumerate(classes):
        (root / cls).mkdir(parents=True, exist_ok=True)
        for load in loads:
            signal = np.sin(2 * np.pi * (100 + 200 * ci) * t) + 0.1 * rng.standard_normal(length)
            np.save(root / cls / f"{cls}_{load}hp.npy", signal)
    return root


def cfg(root: Path, **kw) -> DataConfig:
    base = {"root": str(root), "window": 256, "step": 128, "cache_dir": str(root.parent / "cache")}
    return DataConfig(**{**base, **kw})


@pytest.fixture
def data_root(tmp_path) -> Path:
    return make_recordings(tmp_path / "raw")


def test_prepared_folder_has_the_documented_format(data_root):
    ds = prepare_vibration(cfg(data_root))
    folder = ds.path
    assert {p.name for p in folder.iterdir()} == {"signals.npy", "windows.npy", "recordings.csv", "manifest.json"}
    manifest = json.loads((folder / "manifest.json").read_text())
    for key in ("classes", "counts", "sample_rate", "window", "step", "split", "sources", "norm", "key", "kind"):
        assert key in manifest
    assert manifest["kind"] == "vibration" and manifest["classes"] == ["ball", "inner", "normal"]
    assert len(manifest["sources"]) == 12 and set(manifest["sources"][0]) == {"file", "sha1"}
    assert ds.windows.dtype == np.int64 and ds.windows.shape[1] == 4
    assert np.load(folder / "signals.npy").dtype == np.float32
    for column in (
        "recording",
        "file",
        "sha1",
        "label",
        "class_index",
        "offset",
        "length",
        "source_rate",
        "rpm",
        "fault",
        "size",
        "load",
        "position",
        "sensor",
    ):
        assert column in ds.recordings.columns
    assert ds.recordings["load"].tolist()[:4] == [0, 1, 2, 3]
    total = sum(sum(per_class.values()) for per_class in manifest["counts"].values())
    assert total == len(ds.windows)


def test_signals_for_returns_the_raw_samples_of_each_window(data_root):
    ds = prepare_vibration(cfg(data_root))
    rows = ds.indices("test")[:5]
    windows = ds.signals_for(rows)
    assert windows.shape == (5, 256) and windows.dtype == np.float32
    rec, start = ds.windows[rows[0], 0], ds.windows[rows[0], 1]
    file = ds.recordings.loc[rec, "file"]
    expected = np.load(data_root / file)[start : start + 256]
    np.testing.assert_allclose(windows[0], expected, rtol=1e-6)
    assert ds.labels_for(rows).tolist() == ds.windows[rows, 2].tolist()
    assert np.isnan(ds.rpm_for(rows)).all()  # npy files say nothing about speed


def test_norm_comes_from_train_windows_only(data_root):
    ds = prepare_vibration(cfg(data_root))
    train = ds.signals_for(ds.indices("train")).astype(np.float64)
    mean, std = ds.norm()
    assert mean == pytest.approx(train.mean(), abs=1e-6)
    assert std == pytest.approx(train.std(), rel=1e-5)


@pytest.mark.parametrize(
    "options",
    [
        {"split": "recording-time"},
        {"split": "by-file"},
        {"split": "stratified"},
        {"split": "by-condition", "train_conditions": ["0", "1", "2"], "test_conditions": ["3"]},
        {"split": "kfold", "folds": 4},
    ],
)
def test_no_sample_of_a_recording_is_in_two_splits(data_root, options):
    ds = prepare_vibration(cfg(data_root, **options))
    window = ds.window
    for rec in np.unique(ds.windows[:, 0]):
        mine = ds.windows[ds.windows[:, 0] == rec]
        covered: dict[int, set[int]] = {}
        for _, start, _, split in mine:
            covered.setdefault(int(split), set()).update(range(start, start + window))
        splits = list(covered)
        for i, a in enumerate(splits):
            for b in splits[i + 1 :]:
                assert not covered[a] & covered[b], f"recording {rec}: splits {a} and {b} share samples"
    for split in ("train", "val", "test"):
        assert set(ds.labels_for(ds.indices(split))) == {0, 1, 2}


def test_by_file_keeps_whole_recordings(data_root):
    ds = prepare_vibration(cfg(data_root, split="by-file"))
    for rec in np.unique(ds.windows[:, 0]):
        assert len(set(ds.windows[ds.windows[:, 0] == rec, 3])) == 1


def test_by_condition_tests_on_held_out_loads_and_notes_missing_classes(tmp_path):
    root = make_recordings(tmp_path / "raw", classes=("ball", "inner"))
    make_recordings(root, classes=("normal",), loads=(0,))
    ds = prepare_vibration(cfg(root, split="by-condition", train_conditions=["0", "1", "2"], test_conditions=["3"]))
    test_recs = set(ds.recording_for(ds.indices("test")))
    assert set(ds.recordings.loc[sorted(test_recs), "load"]) == {3}
    assert set(ds.recording_for(ds.indices("val"))) <= set(ds.recordings.index[ds.recordings["load"] != 3])
    assert ds.manifest["missing"] == {"test": ["normal"]}
    assert "normal" in ds.manifest["notes"][0]


def test_kfold_rows_and_per_fold_norm(data_root):
    ds = prepare_vibration(cfg(data_root, split="kfold", folds=4))
    assert ds.manifest["folds"] == 4 and len(ds.manifest["norm_folds"]) == 4
    for k in range(4):
        test, val, train = ds.indices("test", k), ds.indices("val", k), ds.indices("train", k)
        assert set(ds.windows[test, 3]) == {k} and set(ds.windows[val, 3]) == {(k + 1) % 4}
        assert len(test) + len(val) + len(train) == len(ds.windows)
    assert set(ds.manifest["counts"]) == {"fold0", "fold1", "fold2", "fold3"}


def test_resample_keeps_the_frequency_of_a_48k_sine():
    t = np.arange(48000) / 48000
    out = resample(np.sin(2 * np.pi * 1000 * t), 48000, 12000)
    assert out.size == 12000
    spectrum = np.abs(np.fft.rfft(out))
    assert np.fft.rfftfreq(out.size, 1 / 12000)[spectrum.argmax()] == pytest.approx(1000, abs=1)


def test_rate_patterns_resample_recordings_to_the_dataset_rate(data_root):
    t = np.arange(4 * 3000) / 48000
    np.save(data_root / "normal" / "normal_9hp.npy", np.sin(2 * np.pi * 500 * t))
    ds = prepare_vibration(cfg(data_root, rate_patterns={"9hp": 48000}))
    row = ds.recordings[ds.recordings["file"] == "normal/normal_9hp.npy"].iloc[0]
    assert row["source_rate"] == 48000 and row["length"] == 3000
    others = ds.recordings[ds.recordings["file"] != "normal/normal_9hp.npy"]
    assert set(others["source_rate"]) == {12000.0}


def test_a_rate_stored_in_the_file_wins_over_patterns(tmp_path):
    root = tmp_path / "raw"
    for cls in ("a", "b"):
        (root / cls).mkdir(parents=True)
        scipy.io.savemat(
            root / cls / "r.mat",
            {"X001_DE_time": np.random.default_rng(0).standard_normal((6000, 1)), "fs": np.array([[24000]])},
        )
    ds = prepare_vibration(cfg(root, rate_patterns={".*": 48000}, fractions=[0.5, 0.25, 0.25]))
    assert set(ds.recordings["source_rate"]) == {24000.0} and set(ds.recordings["length"]) == {3000}
    assert set(ds.recordings["sensor"]) == {"DE"}


def test_regex_labels_map_and_class_filter(tmp_path):
    root = tmp_path / "raw"
    root.mkdir()
    rng = np.random.default_rng(0)
    for name in ("IR007_0", "IR007_1", "B007_0", "B007_1", "OR007@6_0", "OR007@6_1"):
        np.save(root / f"{name}.npy", rng.standard_normal(2000))
    ds = prepare_vibration(
        cfg(
            root,
            label_from="regex",
            label_regex=r"^(?P<label>[A-Z]+\d{3})",
            label_map={"IR007": "inner", "B007": "ball"},
            classes=["inner", "ball"],
        )
    )
    assert ds.classes == ["inner", "ball"]
    assert sorted(set(ds.recordings["label"])) == ["ball", "inner"]  # OR007 dropped by data.classes
    assert set(ds.recordings["fault"]) == {"inner", "ball"}


def test_cache_second_prep_is_a_hit_and_changes_miss(data_root):
    first = prepare_vibration(cfg(data_root))
    again = prepare_vibration(cfg(data_root))
    assert not first.cache_hit and again.cache_hit and again.path == first.path
    other_step = prepare_vibration(cfg(data_root, step=64))
    assert not other_step.cache_hit and other_step.path != first.path
    np.save(data_root / "ball" / "ball_0hp.npy", np.ones(3000) * 0.5)
    changed = prepare_vibration(cfg(data_root))
    assert not changed.cache_hit and changed.path != first.path
    assert not list((data_root.parent / "cache").glob(".staging-*"))


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="data.root .*nope does not exist"):
        prepare_vibration(cfg(tmp_path / "nope"))


def test_empty_folder(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "README.txt").write_text("no data")
    with pytest.raises(DataError, match="holds no readable files"):
        prepare_vibration(cfg(tmp_path / "raw"))


def test_empty_root_and_image_format_are_config_errors(data_root):
    with pytest.raises(ConfigError, match="data.root is empty"):
        prepare_vibration(DataConfig())
    with pytest.raises(ConfigError, match="data.format = 'images' is for image data"):
        prepare_vibration(cfg(data_root, format="images"))


def test_window_longer_than_a_recording_names_file_and_length(data_root):
    with pytest.raises(DataError, match=r"ball/ball_0hp.npy has 3000 samples .* data.window = 4096; use a smaller"):
        prepare_vibration(cfg(data_root, window=4096, step=1024))


def test_nan_in_a_signal_names_file_and_sample(data_root):
    signal = np.load(data_root / "inner" / "inner_2hp.npy")
    signal[1234] = np.nan
    np.save(data_root / "inner" / "inner_2hp.npy", signal)
    with pytest.raises(DataError, match="inner/inner_2hp.npy: sample 1234 is nan"):
        prepare_vibration(cfg(data_root))


def test_unknown_class_in_data_classes(data_root):
    with pytest.raises(DataError, match="data.classes lists 'cage'"):
        prepare_vibration(cfg(data_root, classes=["ball", "cage"]))


def test_class_without_windows_in_a_split_names_class_and_split(tmp_path):
    root = make_recordings(tmp_path / "raw", classes=("ball",), length=3000)
    make_recordings(root, classes=("tiny",), length=600)
    with pytest.raises(DataError, match="class 'tiny' has no windows in the val split .*data.fractions"):
        prepare_vibration(cfg(root, window=256, step=128))


def test_mat_without_vibration_key_and_text_mat_through_prepare(tmp_path):
    root = tmp_path / "raw"
    (root / "a").mkdir(parents=True)
    scipy.io.savemat(root / "a" / "x.mat", {"temperature": np.ones(5)})
    with pytest.raises(DataError, match=r"x.mat has no vibration variable \(keys found: temperature\)"):
        prepare_vibration(cfg(root))
    (root / "a" / "x.mat").write_text("hello")
    with pytest.raises(DataError, match="x.mat is not a readable MATLAB file"):
        prepare_vibration(cfg(root))


def test_load_rejects_a_folder_that_is_not_prepared(tmp_path):
    with pytest.raises(DataError, match="not a prepared vibration dataset"):
        VibrationDataset.load(tmp_path)


@pytest.mark.realdata
def test_real_cwru_slice(shared_data, tmp_path):
    root = shared_data / "cwru"
    d = DataConfig(
        root=str(root),
        format="mat",
        include=["normal/Normal_0.mat", "12k_drive_end/IR007_0.mat", "12k_drive_end/OR021@6_3.mat"],
        label_from="regex",
        label_regex=r"^(?P<label>Normal|B\d{3}|IR\d{3}|OR\d{3})",
        rate_patterns={"normal": 48000, "12k": 12000},
        window=1024,
        step=512,
        cache_dir=str(tmp_path / "cache"),
    )
    ds = prepare_vibration(d)
    rec = ds.recordings.set_index("file")
    assert ds.classes == ["IR007", "Normal", "OR021"]
    assert rec.loc["normal/Normal_0.mat", "source_rate"] == 48000
    assert rec.loc["normal/Normal_0.mat", "length"] == pytest.approx(243938 / 4, abs=1)
    assert rec.loc["12k_drive_end/OR021@6_3.mat", "position"] == 6
    assert rec.loc["12k_drive_end/IR007_0.mat", "rpm"] > 1700
    assert all(n > 0 for split in ds.manifest["counts"].values() for n in split.values())
