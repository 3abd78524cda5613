"""``adapt.target_channel``: another sensor of the training split's own recordings as the unlabelled target
(drive end → fan end), and the model evaluated on that sensor."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from faultcli.config import load_config
from faultcli.errors import ConfigError, DataError
from faultcli.progress import NullReporter
from faultcli.services.common import start_run
from faultcli.services.fit import check_recipe, fit

from .conftest import FREQS

RATE = 12000


def write_two_sensors(root, seconds: float = 2.0, fe: bool = True):
    """One recording per class with a drive-end and (``fe``) a fainter, differently coloured fan-end channel."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    t = np.arange(int(seconds * RATE)) / RATE
    for code, freq in FREQS.items():
        impacts = (np.sin(2 * np.pi * 30 * t) > 0.95).astype(float)
        ring = np.exp(-np.arange(60) / 10) * np.sin(2 * np.pi * freq * np.arange(60) / RATE)
        de = np.convolve(impacts, ring, mode="same") + 0.3 * rng.normal(size=t.size)
        variables = {"X100_DE_time": de[:, None]}
        if fe:
            variables["X100_FE_time"] = (0.4 * np.convolve(de, [0.5, 0.3, 0.2], mode="same"))[:, None]
        scipy.io.savemat(root / f"{code}007_0.mat", variables)
    return root


# the adapt recipe of conftest.py, turned into the cross-sensor protocol: recording-time split, DE → FE
CROSS_SENSOR = [
    "data.split=recording-time",
    "data.fractions=[0.6,0.2,0.2]",
    "train.epochs=1",
    "adapt.method=coral",
    "adapt.target_channel=FE",
]


def _fit(recipe, overrides, out):
    cfg = load_config(recipe, [*CROSS_SENSOR, *overrides])
    check_recipe(cfg)
    with start_run("finetune", cfg, out=out) as run:
        return fit(cfg, run, NullReporter())


def test_the_target_is_the_other_sensor_of_the_training_segments(tmp_path, adapt_recipe):
    data = write_two_sensors(tmp_path / "data")
    recipe = adapt_recipe(data)
    summary = _fit(recipe, [], tmp_path / "run")
    cfg = load_config(recipe, CROSS_SENSOR)
    from faultcli.data.vibration import prepare_vibration

    source = prepare_vibration(cfg.data)
    assert summary["adapt_target_windows"] == len(source.indices("train"))
    assert "channel FE" in summary["adapt_target"]


def test_target_batches_hold_the_other_sensor_and_no_label(tmp_path, adapt_recipe):
    """The target windows are the fan-end samples of the training rows, inputs only."""
    from faultcli.adapt.target import target_windows
    from faultcli.classification.vibration import vibration_data
    from faultcli.data.vibration import prepare_vibration

    data = write_two_sensors(tmp_path / "data")
    recipe = adapt_recipe(data)
    cfg = load_config(recipe, CROSS_SENSOR)
    source = vibration_data(cfg, NullReporter())
    target = target_windows(cfg, source, NullReporter())
    fan_end = prepare_vibration(load_config(recipe, [*CROSS_SENSOR, "data.channel=FE"]).data)
    batch = next(iter(target.loader(len(target.rows), train=False)))
    assert set(batch) == {"x", "extra"}
    mean, std = float(source.data_info["norm_mean"]), float(source.data_info["norm_std"])
    expected = (np.asarray(fan_end.signals_for(target.rows), dtype=np.float32) - mean) / std
    np.testing.assert_allclose(batch["x"][:, 0].numpy(), expected, rtol=1e-6)
    assert sorted(target.rows.tolist()) == fan_end.indices("train").tolist()


def test_target_channel_mistakes_are_one_line(tmp_path, adapt_recipe):
    data = write_two_sensors(tmp_path / "data")
    recipe = adapt_recipe(data)
    cases = [
        (["adapt.target_channel=DE"], ConfigError, "is data.channel itself"),
        ([f"adapt.target_root={data}"], ConfigError, "two targets"),
    ]
    for i, (overrides, error, match) in enumerate(cases):
        with pytest.raises(error, match=match) as caught:
            _fit(recipe, overrides, tmp_path / f"run{i}")
        assert "\n" not in str(caught.value) and not (tmp_path / f"run{i}").exists()
    no_fe = write_two_sensors(tmp_path / "no-fe", fe=False)
    with pytest.raises(DataError) as caught:
        _fit(adapt_recipe(no_fe, name="no-fe"), [], tmp_path / "run-no-fe")
    assert "\n" not in str(caught.value) and "FE" in str(caught.value) and not (tmp_path / "run-no-fe").exists()
