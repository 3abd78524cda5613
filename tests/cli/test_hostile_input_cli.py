"""Hostile files and values through the real command line: exit code 2, exactly one `error:` line on stderr
(no traceback, no decoder chatter), no run folder and no cached file left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.io

from faultcli.errors import CheckpointError
from faultcli.services.evaluate import run_eval

ROOT = Path(__file__).resolve().parents[2]

VIBRATION = """task = "vibration-classification"
[data]
root = "data"
label_from = "folder"
window = 256
step = 256
split = "by-file"
"""
IMAGES = """task = "image-classification"
[data]
root = "data"
format = "auto"
label_from = "folder"
image_size = [32, 32]
split = "stratified"
"""


def _signal(n: int = 4000, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 1))


def _vibration_folder(root: Path, odd_name: str, write_odd) -> None:
    """Two classes of three good .mat recordings each, plus one hostile file in class a."""
    for label in ("a", "b"):
        (root / label).mkdir(parents=True)
        for i in range(3):
            scipy.io.savemat(root / label / f"r{i}.mat", {"X001_DE_time": _signal(seed=i), "fs": np.array([[12000]])})
    write_odd(root / "a" / odd_name)


def _images_folder(root: Path, odd_name: str, write_odd) -> None:
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        (root / label).mkdir(parents=True)
        for i in range(4):
            cv2.imwrite(str(root / label / f"{label}_{i}.png"), rng.integers(0, 256, (40, 40), dtype=np.uint8))
    write_odd(root / "a" / odd_name)


def _broken_jpeg(path: Path) -> None:
    data = bytearray(cv2.imencode(".jpg", np.random.default_rng(1).integers(0, 256, (40, 40), dtype=np.uint8))[1])
    path.write_bytes(bytes(data[: len(data) * 2 // 3]) + b"\xff\xd9")  # entropy data cut short


def _broken_png(path: Path) -> None:
    data = bytearray(cv2.imencode(".png", np.full((40, 40), 7, dtype=np.uint8))[1])
    data[60] ^= 0xFF  # inside IDAT: libpng reports a CRC error on stderr
    path.write_bytes(bytes(data))


def _voc_inf(path: Path) -> None:
    cv2.imwrite(str(path.with_suffix(".png")), np.zeros((40, 40), dtype=np.uint8))
    path.with_suffix(".xml").write_text(
        "<annotation><filename>x.png</filename><object><name>a</name><bndbox><xmin>1</xmin><ymin>1e400</ymin>"
        "<xmax>5</xmax><ymax>9</ymax></bndbox></object></annotation>",
        encoding="utf-8",
    )


def _mat_with_rate(rate: float):
    return lambda path: scipy.io.savemat(path, {"X001_DE_time": _signal(), "fs": np.array([[rate]])})


def _npz_named_npy(path: Path) -> None:
    with open(path, "wb") as handle:
        np.savez(handle, x=_signal()[:, 0])


def _mat_overflowing_float32(path: Path) -> None:
    values = _signal()
    values[100] = 1e39  # finite in float64, infinite in float32
    scipy.io.savemat(path, {"X001_DE_time": values, "fs": np.array([[12000]])})


CASES = {
    "mat rate 0": (VIBRATION, [], _vibration_folder, "odd.mat", _mat_with_rate(0.0), "not a sampling rate"),
    "mat rate NaN": (VIBRATION, [], _vibration_folder, "odd.mat", _mat_with_rate(np.nan), "not a sampling rate"),
    "mat rate 1e-9": (VIBRATION, [], _vibration_folder, "odd.mat", _mat_with_rate(1e-9), "not a sampling rate"),
    "mat rate 100 Hz": (VIBRATION, [], _vibration_folder, "odd.mat", _mat_with_rate(100.0), "factor beyond"),
    "npz named npy": (VIBRATION, [], _vibration_folder, "odd.npy", _npz_named_npy, ".npz archive named .npy"),
    "mat over float32": (VIBRATION, [], _vibration_folder, "odd.mat", _mat_overflowing_float32, "not a measurement"),
    "rate pattern 0": (VIBRATION, ["data.rate_patterns={'odd' = 0}"], None, "", None, "not a sampling rate"),
    "arcface weight of 3": (VIBRATION, ["vibration.arcface_weight=[[0, 0.3, 1]]"], None, "", None, "start_epoch"),
    "cache_dir a file": (VIBRATION, ["data.cache_dir=recipe.toml"], None, "", None, "is a file, not a folder"),
    "corrupt jpeg": (IMAGES, [], _images_folder, "a_9.jpg", _broken_jpeg, "cannot be decoded"),
    "png with a bad CRC": (IMAGES, [], _images_folder, "a_9.png", _broken_png, "cannot be decoded"),
    "voc box 1e400": (IMAGES, [], _images_folder, "a_8.xml", _voc_inf, "not a pixel coordinate"),
}


def _faultcli(args: list[str], cwd: Path, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "FAULTCLI_CACHE": str(cache), "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "faultcli", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


def _assert_one_error_line(proc: subprocess.CompletedProcess, match: str) -> None:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr[-2000:]
    assert match in lines[0] and "Traceback" not in proc.stderr


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input_is_one_error_line_and_leaves_nothing(tmp_path, name):
    recipe, overrides, make_folder, odd_name, write_odd, match = CASES[name]
    (tmp_path / "recipe.toml").write_text(recipe, encoding="utf-8")
    if make_folder:
        make_folder(tmp_path / "data", odd_name, write_odd)
    cache, out = tmp_path / "cache", tmp_path / "run"
    args = ["prep", "--recipe", "recipe.toml", "--out", str(out)] + [a for o in overrides for a in ("--set", o)]
    proc = _faultcli(args, tmp_path, cache)
    _assert_one_error_line(proc, match)
    assert not out.exists()
    assert not [p for p in cache.rglob("*") if p.is_file()] if cache.exists() else True


def test_a_recipe_that_is_not_utf8_through_the_cli(tmp_path):
    (tmp_path / "recipe.toml").write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    proc = _faultcli(["prep", "--recipe", "recipe.toml", "--out", str(tmp_path / "run")], tmp_path, tmp_path / "c")
    _assert_one_error_line(proc, "not UTF-8")
    assert not (tmp_path / "run").exists()


def test_an_ensemble_member_of_another_task_is_refused_before_any_work():
    with pytest.raises(CheckpointError, match="different tasks"):
        run_eval({"config": {}}, None, "test", None, None, members=[{"task": "segmentation"}])
