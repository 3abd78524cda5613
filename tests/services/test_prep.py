"""services.prep without Typer: run folders, summaries, the cache, task dispatch, and bad input."""

from __future__ import annotations

import contextlib
import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from faultcli.config import load_config
from faultcli.errors import DataError, UserError
from faultcli.services.prep import prep, run_prep


def write_data(root: Path, length: int = 3000) -> Path:
    rng = np.random.default_rng(0)
    for cls in ("inner", "normal"):
        (root / cls).mkdir(parents=True)
        for load in range(3):
            np.save(root / cls / f"{cls}_{load}hp.npy", rng.standard_normal(length))
    return root


def write_recipe(tmp_path: Path, root: Path, extra: str = "") -> Path:
    recipe = tmp_path / "tiny.toml"
    recipe.write_text(
        f'task = "vibration-classification"\n[data]\nroot = "{root.as_posix()}"\nwindow = 256\nstep = 128\n{extra}'
    )
    return recipe


@pytest.fixture
def recipe(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)  # runs/ goes under tmp_path
    return write_recipe(tmp_path, write_data(tmp_path / "raw"))


def test_prep_writes_summary_manifest_and_log(recipe, tmp_path):
    result = run_prep(recipe, [])
    run = Path(result["run_dir"])
    assert run.parent == Path("runs/prep") and run.name.startswith("tiny-")
    summary = json.loads((run / "summary.json").read_text())
    assert set(summary) >= {
        "n_windows_train",
        "n_windows_val",
        "n_windows_test",
        "n_recordings",
        "n_classes",
        "cache_hit",
        "seconds",
        "dataset",
    }
    assert summary["n_recordings"] == 6 and summary["n_classes"] == 2 and summary["cache_hit"] is False
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["classes"] == ["inner", "normal"]
    assert summary["n_windows_train"] == sum(manifest["counts"]["train"].values())
    assert Path(summary["dataset"], "signals.npy").is_file()
    assert (run / "config.toml").is_file() and "summary" in (run / "run.log").read_text()
    assert list(result["counts"]) == ["train", "val", "test"]


def test_second_prep_reuses_the_cache(recipe):
    first = run_prep(recipe, [])
    second = run_prep(recipe, [])
    assert second["summary"]["cache_hit"] and second["summary"]["dataset"] == first["summary"]["dataset"]
    assert second["run_dir"] != first["run_dir"]
    changed = run_prep(recipe, ["data.step=64"])
    assert not changed["summary"]["cache_hit"]


def test_reporter_sees_one_step_per_file(recipe):
    seen = []

    class Recorder:
        @contextlib.contextmanager
        def task(self, description, total):
            steps = []
            seen.append((description, total, steps))

            class T:
                def advance(self, n=1, **fields):
                    steps.append(n)

            yield T()

        def info(self, message):
            pass

    run_prep(recipe, [], reporter=Recorder())
    reading = [s for s in seen if s[0] == "reading"][0]
    assert reading[1] == 6 and len(reading[2]) == 6


def test_bad_input_leaves_no_run_folder(recipe):
    with pytest.raises(DataError, match="data.window = 8192"):
        run_prep(recipe, ["data.window=8192", "data.step=1024"])
    assert not list(Path("runs/prep").glob("*"))


def test_out_that_exists_is_refused(recipe, tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(UserError, match="already exists"):
        run_prep(recipe, [], out=tmp_path / "taken")
    result = run_prep(recipe, [], out=tmp_path / "fresh", name="x")
    assert result["run_dir"] == str(tmp_path / "fresh")


def test_image_tasks_go_to_prepare_images(recipe, monkeypatch):
    calls = []

    class FakeImages:
        manifest = {
            "classes": ["a"],
            "counts": {"train": {"a": 2}, "val": {"a": 1}, "test": {"a": 1}},
            "kind": "images",
        }
        folder = Path("somewhere")

        def indices(self, split, fold=None):
            return np.arange(self.manifest["counts"][split]["a"])

    def prepare_images(data_cfg, task, reporter):
        calls.append(task)
        return FakeImages()

    monkeypatch.setitem(sys.modules, "faultcli.data.images", types.SimpleNamespace(prepare_images=prepare_images))
    cfg = load_config(recipe, ["task=segmentation"])
    result = prep(cfg)
    assert calls == ["segmentation"]
    assert result["summary"]["n_images_train"] == 2 and result["summary"]["dataset"] == "somewhere"


@pytest.mark.realdata
def test_shipped_cwru_recipe_on_three_files(shared_data, tmp_path, monkeypatch):
    recipe = Path(__file__).resolve().parents[2] / "recipes" / "cwru.toml"
    monkeypatch.chdir(tmp_path)
    files = '["normal/Normal_0.mat", "12k_drive_end/B014_1.mat", "12k_drive_end/OR007@6_2.mat"]'
    result = run_prep(
        recipe,
        [
            f"data.root={shared_data / 'cwru'}",
            f"data.include={files}",
            'data.classes=["normal", "ball_014", "outer_007"]',
        ],
    )
    assert result["classes"] == ["normal", "ball_014", "outer_007"]
    assert all(n > 0 for split in result["counts"].values() for n in split.values())
    manifest = json.loads((Path(result["run_dir"]) / "manifest.json").read_text())
    assert manifest["sample_rate"] == 12000 and manifest["window"] == 1024
