"""data.preprocess steps run on every recording after resampling, before windowing, and reach the
checkpoint's data_info so new recordings are read the same way."""

from __future__ import annotations

import numpy as np
import pytest

from faultcli.config import load_config
from faultcli.data.vibration import prepare_vibration
from faultcli.errors import ConfigError
from faultcli.signal.preprocess import bandpass


def _folder(root, rate=12000, seconds=2.0):
    rng = np.random.default_rng(0)
    t = np.arange(int(rate * seconds)) / rate
    for label in ("a", "b"):
        (root / label).mkdir(parents=True)
        tone = 300.0 if label == "a" else 3000.0
        x = np.sin(2 * np.pi * tone * t) + 0.1 * rng.normal(size=t.size)
        np.save(root / label / f"{label}_0.npy", x.astype(np.float32))
    return root


def _cfg(tmp_path, preprocess):
    root = _folder(tmp_path / "data") if not (tmp_path / "data").exists() else tmp_path / "data"
    steps = (
        "["
        + ", ".join("{" + ", ".join(f"{k} = {v!r}".replace("'", '"') for k, v in st.items()) + "}" for st in preprocess)
        + "]"
    )
    overrides = [
        f"data.root={root}",
        "data.format=npy",
        "data.label_from=folder",
        "data.source_rate=12000",
        "data.window=256",
        "data.step=256",
        f"data.cache_dir={tmp_path / 'cache'}",
        f"data.preprocess={steps}",
    ]
    return load_config(None, overrides)


def test_bandpass_step_is_applied_to_each_recording_before_windowing(tmp_path):
    cfg = _cfg(tmp_path, [{"kind": "bandpass", "low": 1000.0, "high": 5000.0}])
    data = prepare_vibration(cfg.data)
    rows = data.indices("all")
    rows = rows[data.labels_for(rows) == 0]  # class a's windows
    got = data.signals_for(rows)
    raw = np.load(tmp_path / "data" / "a" / "a_0.npy").astype(np.float64)
    filtered = bandpass(raw, 12000, 1000.0, 5000.0)  # the whole recording, then cut as the windows are
    expected = np.stack([filtered[start : start + 256] for start in data.windows[rows, 1]])
    assert np.allclose(got, expected, atol=1e-4)
    assert np.std(got) < 0.2 * np.std(raw)  # the 300 Hz tone lies outside the band


def test_an_impossible_step_stops_when_the_recipe_loads(tmp_path):
    with pytest.raises(ConfigError, match="Nyquist"):
        _cfg(tmp_path, [{"kind": "bandpass", "low": 100.0, "high": 9000.0}])
