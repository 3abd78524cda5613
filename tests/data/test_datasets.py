"""The torch Dataset over prepared windows: shapes, dtypes and train-statistics normalisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from faultcli.config.schema import DataConfig
from faultcli.data.datasets import WindowDataset
from faultcli.data.vibration import prepare_vibration


def test_items_are_normalised_windows_labels_and_rpm(tmp_path):
    rng = np.random.default_rng(0)
    for cls in ("a", "b"):
        (tmp_path / "raw" / cls).mkdir(parents=True)
        for i in range(2):
            np.save(tmp_path / "raw" / cls / f"{i}.npy", 3.0 + 2.0 * rng.standard_normal(2000))
    data = prepare_vibration(DataConfig(root=str(tmp_path / "raw"), window=128, step=64))
    train = WindowDataset.for_split(data, "train")
    x, y, rpm = train[0]
    assert x.shape == (1, 128) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and rpm.dtype == torch.float32 and torch.isnan(rpm)
    mean, std = data.norm()
    raw = data.signals_for(train.rows[:1])[0]
    np.testing.assert_allclose(x[0].numpy(), (raw - mean) / std, rtol=1e-5)
    stacked = torch.stack([train[i][0] for i in range(len(train))])
    assert stacked.mean().item() == pytest.approx(0.0, abs=1e-3)
    assert stacked.std().item() == pytest.approx(1.0, abs=1e-2)
    assert len(WindowDataset.for_split(data, "test")) == len(data.indices("test"))
