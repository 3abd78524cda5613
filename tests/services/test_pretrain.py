"""faultcli pretrain end to end on generated recordings, through the service layer (and the CLI for bad
input): the run folder's files, a finetune from it, both stages in one run, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch

from faultcli.config import load_config
from faultcli.engine.checkpoints import load_checkpoint
from faultcli.errors import ConfigError, DataError
from faultcli.progress import NullReporter
from faultcli.services.common import start_run
from faultcli.services.fit import fit
from faultcli.services.pretrain import check_pretrain, pretrain, pretrain_config


def _data(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    t = np.arange(12000) / 12000
    for code, freq in {"IR": 900.0, "OR": 2100.0, "B": 3300.0}.items():
        impacts = (np.sin(2 * np.pi * 30 * t) > 0.95).astype(float)
        ring = np.exp(-np.arange(60) / 10) * np.sin(2 * np.pi * freq * np.arange(60) / 12000)
        signal = np.convolve(impacts, ring, mode="same") + 0.3 * rng.normal(size=t.size)
        scipy.io.savemat(root / f"{code}007_0.mat", {"X100_DE_time": signal[:, None]})
    return root


def _recipe(tmp_path: Path, name: str = "pre", extra: str = "") -> Path:
    data = _data(tmp_path / "data")
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
[model]
name = "wdcnn"
[train]
epochs = 2
batch_size = 8
lr = 3e-3
threads = 1
[pretrain]
probe_every = 1
projection_dim = 16
{extra}"""
    )
    return path


def _pretrain(recipe, overrides, out, finetune=None):
    cfg = pretrain_config(load_config(recipe, overrides))
    with start_run("pretrain", cfg, out=out) as run:
        return pretrain(cfg, run, NullReporter(), finetune)


def test_pretrain_writes_encoder_head_manifest_and_a_checkpoint_finetune_starts_from(tmp_path):
    summary = _pretrain(_recipe(tmp_path), [], tmp_path / "pre")
    run = tmp_path / "pre"
    for name in ("config.toml", "encoder.pt", "projection_head.pt", "manifest.json", "summary.json", "run.log"):
        assert (run / name).stat().st_size > 0, name
    assert summary["method"] == "ntxent" and summary["pool_windows"] == summary["n_train"] > 0
    assert 0 <= summary["test_knn_accuracy"] <= 1 and summary["best_val_knn_acc"] is not None
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [("val_knn_acc" in m) for m in metrics] == [True, True]
    manifest = json.loads((run / "manifest.json").read_text())
    assert {r["file"] for r in manifest["recordings"]} == {"B007_0.mat", "IR007_0.mat", "OR007_0.mat"}
    assert sum(r["windows"] for r in manifest["recordings"]) == summary["pool_windows"]
    assert all(len(r["sha1"]) == 40 for r in manifest["recordings"])
    best = load_checkpoint(run / "checkpoints" / "best.pt")
    assert best["pretrain"]["method"] == "ntxent" and any(k.startswith("projection.") for k in best["parts"])
    encoder = torch.load(run / "encoder.pt", weights_only=True)
    assert "features.0.0.weight" in encoder and not any(k.startswith(("head.", "arcface.")) for k in encoder)
    assert set(torch.load(run / "projection_head.pt", weights_only=True)) == {k.split(".", 1)[1] for k in best["parts"]}

    cfg = load_config(_recipe(tmp_path, "fine"), [f"train.init={run}", "train.epochs=1"])
    with start_run("finetune", cfg, out=tmp_path / "fine") as fine_run:
        tuned = fit(cfg, fine_run, NullReporter())
    assert tuned["init_head"] == "started afresh (a pretraining run trains no classifier)"
    assert tuned["init_loaded"] == len(encoder) and tuned["init_initialised"] == 3


def test_pretrain_resumes_with_its_projection_head(tmp_path):
    recipe = _recipe(tmp_path)
    _pretrain(recipe, [], tmp_path / "pre")
    cfg = pretrain_config(load_config(recipe, ["train.epochs=3"]))
    from faultcli.runs import Run, make_logger

    run = Run(tmp_path / "pre", make_logger(tmp_path / "pre"))
    summary = pretrain(cfg, run, NullReporter(), resume=tmp_path / "pre" / "checkpoints" / "last.pt")
    assert summary["epochs_run"] == 3
    assert len((tmp_path / "pre" / "metrics.jsonl").read_text().splitlines()) == 3


def test_then_finetune_runs_both_stages_in_one_run_folder(tmp_path):
    recipe = _recipe(tmp_path, extra='method = "masked"\nmask_span = 16')
    finetune = load_config(_recipe(tmp_path, "fine"), ["train.epochs=1"])
    summary = _pretrain(recipe, [], tmp_path / "run", finetune)
    run = tmp_path / "run"
    assert summary["stages"] == ["pretrain", "finetune"] and summary["pretrain"]["method"] == "masked"
    assert "test_accuracy" in summary and summary["init_source"] == str(run / "pretrain")
    assert (run / "pretrain" / "decoder_head.pt").is_file() and (run / "pretrain" / "summary.json").is_file()
    assert (run / "finetune" / "checkpoints" / "best.pt").is_file() and (run / "finetune" / "config.toml").is_file()
    assert 'init = "' in (run / "finetune" / "config.toml").read_text()
    assert json.loads((run / "summary.json").read_text())["pretrain"]["pool_windows"] > 0


def test_bad_pretraining_input_is_refused_before_any_run(tmp_path):
    recipe = _recipe(tmp_path)
    with pytest.raises(ConfigError, match="pretrain.method = 'simclr' is not allowed"):
        load_config(recipe, ["pretrain.method=simclr"])
    with pytest.raises(ConfigError, match="supcon' needs a label for every window"):
        check_pretrain(load_config(recipe, ["pretrain.method=supcon", f'pretrain.extra_roots=["{tmp_path}"]']))
    with pytest.raises(ConfigError, match="no trainable encoder"):
        check_pretrain(load_config(recipe, ["model.name=band_linear"]))
    other = load_config(recipe, ["data.window=2048"])
    with pytest.raises(ConfigError, match="is not the pretrained one"):
        check_pretrain(load_config(recipe), other)
    with pytest.raises(DataError, match="train split holds no window"):
        _pretrain(recipe, ["data.fractions=[0.0, 0.5, 0.5]"], tmp_path / "empty")
    assert not (tmp_path / "empty").exists()


def test_the_cli_pretrains_and_prints_one_line_for_bad_input(tmp_path):
    recipe = _recipe(tmp_path)
    bad = subprocess.run(
        [sys.executable, "-m", "faultcli", "pretrain", "-r", str(recipe), "--set", "pretrain.method=byol"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "pretrain.method" in bad.stderr
    out = tmp_path / "cli"
    done = subprocess.run(
        [sys.executable, "-m", "faultcli", "pretrain", "-r", str(recipe), "--set", "train.epochs=1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "test_knn_accuracy" in done.stdout and (out / "encoder.pt").is_file()


def test_pretrain_resume_on_the_command_line(tmp_path):
    import os
    import subprocess
    import sys

    recipe = _recipe(tmp_path, extra="")
    env = {**os.environ, "FAULTCLI_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    cli = [sys.executable, "-m", "faultcli", "pretrain"]
    first = subprocess.run([*cli, "-r", str(recipe), "--out", str(tmp_path / "p"), "--set", "train.epochs=1"],
                           capture_output=True, text=True, env=env)  # fmt: skip
    assert first.returncode == 0, first.stderr
    resumed = subprocess.run([*cli, "--resume", str(tmp_path / "p"), "--set", "train.epochs=2"],
                             capture_output=True, text=True, env=env)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((tmp_path / "p" / "summary.json").read_text())["epochs_run"] == 2
