"""Tiny generated recordings at two loads (source 0, target 1) and a by-condition WDCNN recipe over them."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.io

FREQS = {"IR": 900.0, "OR": 2100.0, "B": 3300.0}


def write_recordings(root: Path, loads=(0, 1), seconds: float = 1.0, rate: int = 12000) -> Path:
    """One .mat file per class and load; the target load rings louder and a little lower."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * rate)) / rate
    for code, freq in FREQS.items():
        for load in loads:
            impacts = (np.sin(2 * np.pi * (30 + 5 * load) * t) > 0.95).astype(float)
            ring = np.exp(-np.arange(60) / 10) * np.sin(2 * np.pi * freq * (1 - 0.1 * load) * np.arange(60) / rate)
            signal = (1 + load) * np.convolve(impacts, ring, mode="same") + 0.3 * rng.normal(size=t.size)
            scipy.io.savemat(root / f"{code}007_{load}.mat", {f"X1{load}0_DE_time": signal[:, None]})
    return root


def scrambled_copy(source: Path, dest: Path, load: int = 1) -> Path:
    """``source`` with the recordings of ``load`` under one another's labels (IR → OR → B → IR)."""
    shutil.copytree(source, dest)
    codes = list(FREQS)
    for i, code in enumerate(codes):
        shutil.copy(source / f"{code}007_{load}.mat", dest / f"{codes[(i + 1) % len(codes)]}007_{load}.mat")
    return dest


@pytest.fixture
def adapt_recipe(tmp_path):
    """make(data, extra="") → a recipe path: train on load 0 (val cut in time), test on load 1."""

    def make(data: Path | None = None, extra: str = "", name: str = "r") -> Path:
        data = data or write_recordings(tmp_path / "data")
        path = tmp_path / f"{name}.toml"
        path.write_text(
            f"""
task = "vibration-classification"
[data]
root = "{data}"
label_from = "regex"
label_regex = '^(?P<label>IR|OR|B)'
sample_rate = 12000
source_rate = 12000
window = 1024
step = 512
split = "by-condition"
condition = "load"
train_conditions = ["0"]
test_conditions = ["1"]
fractions = [0.8, 0.2, 0.0]
[model]
name = "wdcnn"
[train]
epochs = 2
batch_size = 8
lr = 3e-3
patience = 0
threads = 1
[eval]
tsne_max_points = 20
batch_size = 64
{extra}"""
        )
        return path

    return make
