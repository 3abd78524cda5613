"""Tiny generated CWRU-like recordings and a WDCNN recipe over them, for pretraining and init tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io

from faultcli.progress import NullReporter

FREQS = {"IR": 900.0, "OR": 2100.0, "B": 3300.0}


def write_recordings(root: Path, loads=(0, 1), seconds: float = 1.0, rate: int = 12000, codes=tuple(FREQS)) -> Path:
    """Each class a resonance excited by impacts, plus noise; one .mat file per class and load."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * rate)) / rate
    for code in codes:
        for load in loads:
            impacts = (np.sin(2 * np.pi * (30 + 5 * load) * t) > 0.95).astype(float)
            ring = np.exp(-np.arange(60) / 10) * np.sin(2 * np.pi * FREQS[code] * np.arange(60) / rate)
            signal = (1 + 0.5 * load) * np.convolve(impacts, ring, mode="same") + 0.3 * rng.normal(size=t.size)
            scipy.io.savemat(
                root / f"{code}007_{load}.mat",
                {f"X1{load}0_DE_time": signal[:, None], f"X1{load}0RPM": np.array([[1797 - 20 * load]])},
            )
    return root


class Lines(NullReporter):
    """Keeps the info lines, as a run's log would."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message):
        self.lines.append(message)


@pytest.fixture
def vib_recipe(tmp_path):
    """make(extra="", name="r") → a recipe path over generated recordings (wdcnn, 2 epochs)."""

    def make(extra: str = "", name: str = "r", data: Path | None = None) -> Path:
        data = data or tmp_path / "data"
        if not data.exists():
            write_recordings(data)
        path = tmp_path / f"{name}.toml"
        path.write_text(
            f"""
task = "vibration-classification"
[data]
root = "{data}"
label_from = "regex"
label_regex = '^(?P<label>IR|OR|B)'
sample_rate = 12000
window = 1024
step = 512
[model]
name = "wdcnn"
[train]
epochs = 2
batch_size = 16
lr = 3e-3
patience = 0
threads = 1
[eval]
tsne_max_points = 30
batch_size = 64
{extra}"""
        )
        return path

    return make
