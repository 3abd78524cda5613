"""Shaft speed from file names (data.speed_regex) and angular resampling (data.order_rpm).

Fixtures: SEU-like pre-windowed CSV files (``<state><speed>_<load>_<split>.csv``, one window per column) whose
windows hold a line at a fixed order of their shaft speed, so the same fault sits at 1.5× the frequency at
30 Hz than at 20 Hz, as on the real rig.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from faultcli.adapt.unlabelled import read_unlabelled
from faultcli.config.schema import DataConfig
from faultcli.data import labels
from faultcli.data.rates import to_orders
from faultcli.data.vibration import prepare_vibration
from faultcli.errors import ConfigError, DataError
from faultcli.progress import NullReporter

RATE = 5120
WINDOW = 256
ORDER = 9.0  # the line every window holds, in orders of its shaft speed
SPEED_HZ = r"(?P<shaft_hz>\d+)_\d+_"


def write_windows(path: Path, columns: np.ndarray) -> None:
    """A header-less CSV whose column j is window j (rows = samples)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, columns, delimiter=",", fmt="%.6f")


def make_seu(root: Path, cols: int = 4) -> Path:
    """health and inner at 20 Hz / 0 V and 30 Hz / 2 V, train_set and test_set files; line at ORDER × speed."""
    t = np.arange(WINDOW)[:, None] / RATE
    for state, phase in (("health", 0.0), ("inner", 1.0)):
        for speed, load in ((20, 0), (30, 2)):
            for split in ("train", "test"):
                starts = np.arange(cols)[None, :] * WINDOW / RATE
                x = np.sin(2 * np.pi * ORDER * speed * (t + starts) + phase)
                write_windows(root / f"{split}_set" / f"{state}{speed}_{load}_{split}.csv", x)
    return root


def cfg(root: Path, **kw) -> DataConfig:
    base = {
        "root": str(root),
        "format": "csv",
        "csv_layout": "columns",
        "label_from": "regex",
        "label_regex": r"^(?P<label>[a-z]+)(?P<speed>\d+)_(?P<load>\d+)_",
        "sample_rate": RATE,
        "source_rate": RATE,
        "window": WINDOW,
        "step": WINDOW,
        "split": "by-condition",
        "condition": "speed",
        "train_conditions": ["20"],
        "test_conditions": ["30"],
        "fractions": [0.75, 0.25, 0.0],
        "include": ["train_set/*"],
        "cache_dir": str(root.parent / "cache"),
    }
    return DataConfig(**{**base, **kw})


def rpm_by_file(ds) -> dict[str, float]:
    return ds.recordings.groupby("file")["rpm"].first().to_dict()


def peak_order(window: np.ndarray, rpm_of_grid: float) -> float:
    """The strongest line of a window, in orders of ``rpm_of_grid``."""
    spec = np.abs(np.fft.rfft(window * np.hanning(window.size)))
    return float(np.argmax(spec[1:]) + 1) * RATE / window.size / (rpm_of_grid / 60.0)


def test_speed_regex_states_each_recordings_rpm(tmp_path):
    ds = prepare_vibration(cfg(make_seu(tmp_path / "seu"), speed_regex=SPEED_HZ))
    rpm = rpm_by_file(ds)
    assert rpm["train_set/health20_0_train.csv"] == 1200.0
    assert rpm["train_set/inner30_2_train.csv"] == 1800.0
    rows = ds.indices("test")
    assert set(ds.rpm_for(rows).tolist()) == {1800.0}  # the model's rpm input follows the file names


def test_rpm_group_is_read_in_revolutions_per_minute(tmp_path):
    root = tmp_path / "named"
    write_windows(root / "inner_1730rpm_a.csv", np.random.default_rng(0).normal(size=(4 * WINDOW, 1)))
    write_windows(root / "health_1797rpm_b.csv", np.random.default_rng(1).normal(size=(4 * WINDOW, 1)))
    d = DataConfig(
        root=str(root),
        format="csv",
        csv_layout="signal",
        label_from="regex",
        label_regex=r"^(?P<label>[a-z]+)_",
        speed_regex=r"_(?P<rpm>\d+(?:\.\d+)?)rpm",
        sample_rate=RATE,
        window=WINDOW,
        step=WINDOW,
        split="recording-time",
        fractions=[0.5, 0.0, 0.5],
        cache_dir=str(tmp_path / "cache"),
    )
    assert rpm_by_file(prepare_vibration(d)) == {"health_1797rpm_b.csv": 1797.0, "inner_1730rpm_a.csv": 1730.0}


def test_without_speed_regex_rpm_stays_unknown(tmp_path):
    ds = prepare_vibration(cfg(make_seu(tmp_path / "seu")))
    assert ds.recordings["rpm"].isna().all()


def test_a_name_the_speed_group_does_not_match_is_an_error(tmp_path):
    root = make_seu(tmp_path / "seu")
    write_windows(root / "train_set" / "health20_0_extra.csv", np.zeros((WINDOW, 2)))
    d = cfg(root, speed_regex=r"^[a-z]+(?P<shaft_hz>\d+)_\d+_train")
    with pytest.raises(DataError, match=r"health20_0_extra\.csv.*matches nothing"):
        prepare_vibration(d)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [(r"(?P<speed>\d+)_", "needs one named group"), (r"(?P<rpm>\d+)_(?P<shaft_hz>\d+)", "it has 2"), ("(", "valid")],
)
def test_speed_regex_needs_one_speed_group(pattern, message):
    with pytest.raises(ConfigError, match=message):
        labels.speed_regex(pattern)


def test_zero_speed_is_an_error():
    with pytest.raises(DataError, match="not a positive shaft speed"):
        labels.speed_from_path("a/inner0_2_train.csv", labels.speed_regex(SPEED_HZ))


def test_order_resampling_puts_a_fault_line_at_one_bin_whatever_the_speed(tmp_path):
    ds = prepare_vibration(cfg(make_seu(tmp_path / "seu"), speed_regex=SPEED_HZ, order_rpm=1200))
    table = ds.recordings.set_index("file")
    # the 30 Hz columns are stretched by 1.5 and cut to one window; the 20 Hz ones are kept
    assert set(table.loc["train_set/inner30_2_train.csv", "length"]) == {WINDOW * 3 // 2}
    assert set(table.loc["train_set/inner20_0_train.csv", "length"]) == {WINDOW}
    assert set(ds.recordings["rpm"]) == {1200.0}  # the speed the stored signal turns at
    assert set(ds.recordings["recorded_rpm"]) == {1200.0, 1800.0}
    test, train = ds.indices("test"), ds.indices("train")
    assert (ds.labels_for(test) >= 0).all() and len(test) == 8
    for rows in (train, test):
        for x in ds.signals_for(rows):
            assert peak_order(x, 1200) == pytest.approx(ORDER, abs=0.5)


def test_without_order_resampling_the_line_moves_with_speed(tmp_path):
    ds = prepare_vibration(cfg(make_seu(tmp_path / "seu"), speed_regex=SPEED_HZ))
    x = ds.signals_for(ds.indices("test"))[0]
    assert peak_order(x, 1200) == pytest.approx(1.5 * ORDER, abs=0.5)


def test_order_resampling_needs_a_speed(tmp_path):
    with pytest.raises(DataError, match="data.order_rpm needs the recording's shaft speed"):
        prepare_vibration(cfg(make_seu(tmp_path / "seu"), order_rpm=1200))


def test_an_order_speed_above_a_recording_leaves_it_too_short(tmp_path):
    with pytest.raises(DataError, match="no higher than every recording's speed"):
        prepare_vibration(cfg(make_seu(tmp_path / "seu"), speed_regex=SPEED_HZ, order_rpm=1800))


def test_unlabelled_target_folders_get_their_speed_and_resampling(tmp_path):
    root = make_seu(tmp_path / "seu")
    d = cfg(root, speed_regex=SPEED_HZ, order_rpm=1200)
    ds = read_unlabelled(d, str(root), ["train_set/*30_2_*"], 0, NullReporter(), "adapt.target_root", "adapt.x")
    assert set(ds.recordings["recorded_rpm"]) == {1800.0}
    assert peak_order(ds.signals_for(ds.indices("all"))[0], 1200) == pytest.approx(ORDER, abs=0.5)


def test_to_orders_keeps_the_level_at_the_ends():
    x = np.full(1000, 3.0, dtype=np.float32)
    y = to_orders(x, 1800.0, 1200.0)
    assert y.size == 1500
    assert np.allclose(y, 3.0, atol=1e-2)  # no dip at either end that would mark resampled recordings


def test_speed_note_states_the_nominal_speed_only_when_a_speed_is_missing(tmp_path):
    root = make_seu(tmp_path / "seu")
    unknown = prepare_vibration(cfg(root))
    assert unknown.speed_note(1800.0) == (
        "16 of 16 recording(s) state no shaft speed: order normalisation reads them at vibration.nominal_rpm = "
        "1800 rpm (state it with data.speed_regex)"
    )
    assert prepare_vibration(cfg(root, speed_regex=SPEED_HZ)).speed_note(1800.0) is None


def test_predict_reads_speed_and_resamples_as_training_did(tmp_path):
    """A new recording of a model trained with speed_regex + order_rpm gets the same windows in predict."""
    from faultcli.export.preprocess import read_recordings
    from faultcli.export.sidecar import _vibration_prep

    root = make_seu(tmp_path / "seu")
    d = cfg(root, speed_regex=SPEED_HZ, order_rpm=1200)
    ds = prepare_vibration(d)
    state = {"config": {"data": vars(d)}, "data_info": {"norm_mean": 0.0, "norm_std": 1.0}}
    prep = _vibration_prep(state)
    assert prep["speed_regex"] == SPEED_HZ and prep["order_rpm"] == 1200.0
    path = root / "train_set" / "inner30_2_train.csv"
    read = read_recordings(path, path.name, prep)
    assert {r.rpm for r in read} == {1200.0}
    rows = np.flatnonzero(
        ds.windows[:, 0] == ds.recordings.set_index("file").loc["train_set/inner30_2_train.csv", "recording"].iloc[0]
    )
    np.testing.assert_allclose(read[0].x[:, 0], ds.signals_for(rows[: len(read[0].x)]), atol=1e-5)
    unnamed = tmp_path / "unnamed.csv"
    unnamed.write_bytes(path.read_bytes())
    with pytest.raises(DataError, match="speed_regex"):
        read_recordings(unnamed, unnamed.name, prep)
