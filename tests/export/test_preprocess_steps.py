"""Predict reads a new recording through the recipe's preprocessing steps, as training read its data."""

from __future__ import annotations

import numpy as np

from faultcli.export.preprocess import read_recordings
from faultcli.signal.preprocess import bandpass


def _prep(steps):
    return {
        "kind": "vibration",
        "sample_rate": 12000,
        "window": 256,
        "step": 256,
        "channel": "DE",
        "csv_layout": "auto",
        "rate_patterns": {},
        "source_rate": 0,
        "assume_rate": False,
        "norm_mean": 0.0,
        "norm_std": 1.0,
        "steps": steps,
    }


def test_new_recordings_go_through_the_preprocessing_steps(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=4096).astype(np.float32)
    np.save(tmp_path / "r.npy", x)
    step = {"kind": "bandpass", "low": 500.0, "high": 2000.0}
    plain = read_recordings(tmp_path / "r.npy", "r", _prep([]), sample_rate=12000)[0]
    filtered = read_recordings(tmp_path / "r.npy", "r", _prep([step]), sample_rate=12000)[0]
    expected = bandpass(x.astype(np.float64), 12000, 500.0, 2000.0)
    assert np.allclose(filtered.x.reshape(len(filtered.starts), -1)[0], expected[:256], atol=1e-4)
    assert not np.allclose(plain.x, filtered.x)
