"""finetune → eval end to end on generated vibration recordings, through the service layer."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from faultcli.config import load_config
from faultcli.engine.checkpoints import load_checkpoint
from faultcli.services.common import start_run
from faultcli.services.evaluate import checkpoint_config, run_eval
from faultcli.services.fit import fit

FREQS = {"IR": 900.0, "OR": 2100.0, "B": 3300.0}


def write_recordings(root: Path, loads=(0, 1), seconds: float = 2.0, rate: int = 12000) -> Path:
    """CWRU-like .mat files: each class a different resonance excited by impacts, plus noise."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * rate)) / rate
    for code, freq in FREQS.items():
        for load in loads:
            impacts = (np.sin(2 * np.pi * (30 + 5 * load) * t) > 0.95).astype(float)
            signal = np.convolve(
                impacts, np.exp(-np.arange(60) / 10) * np.sin(2 * np.pi * freq * np.arange(60) / rate), mode="same"
            ) + 0.3 * rng.normal(size=t.size)
            scipy.io.savemat(
                root / f"{code}007_{load}.mat",
                {f"X1{load}0_DE_time": signal[:, None], f"X1{load}0RPM": np.array([[1797 - 20 * load]])},
            )
    return root


def recipe(tmp_path: Path, model: str, extra: str = "") -> Path:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    if not any(data.glob("*.mat")):
        write_recordings(data)
    text = f"""
task = "vibration-classification"
[data]
root = "{data}"
label_from = "regex"
label_regex = '^(?P<label>IR|OR|B)'
sample_rate = 12000
window = 1024
step = 512
[model]
name = "{model}"
[vibration]
arcface_weight = [[0, 0.3], [1, 0.5]]
mixup_alpha = 0.2
[train]
epochs = 2
batch_size = 16
lr = 3e-3
patience = 0
[[augment]]
start_epoch = 0
noise_std = 0.05
shift = 0.1
[eval]
tsne_max_points = 50
batch_size = 64
{extra}"""
    path = tmp_path / f"{model}.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("model", "overrides"),
    [
        ("wdcnn", []),
        ("multimodal_small", []),
        ("multimodal_small", ["vibration.wide_bands=16"]),
        ("band_linear", ["train.ema_epochs=1", "train.tie_break_metric=epoch"]),
    ],
)
def test_finetune_then_eval_writes_every_file(tmp_path, model, overrides):
    cfg = load_config(recipe(tmp_path, model), overrides)
    with start_run("finetune", cfg, out=tmp_path / "run") as run:
        summary = fit(cfg, run, reporter=_Null())
    run_dir = tmp_path / "run"
    saved = json.loads((run_dir / "summary.json").read_text())
    for key in ("test_accuracy", "test_macro_f1", "best_epoch", "train_seconds", "params"):
        assert key in saved and saved[key] == summary[key]
    assert 0.0 <= saved["test_accuracy"] <= 1.0 and saved["params"] > 100
    assert len((run_dir / "metrics.jsonl").read_text().splitlines()) == 2
    state = load_checkpoint(run_dir / "checkpoints" / "best.pt")
    assert state["classes"] == ["B", "IR", "OR"] and state["model_name"] == model
    if "vibration.wide_bands=16" in overrides:  # the wide read-out is rebuilt from the checkpoint
        assert state["model_kwargs"]["wide_bands"] == 16

    state, eval_cfg = checkpoint_config(run_dir, None, [])
    with start_run("eval", eval_cfg, out=tmp_path / "eval") as eval_run:
        result = run_eval(state, eval_cfg, "test", eval_run, _Null())
    assert result["accuracy"] == pytest.approx(saved["test_accuracy"])  # same model, same split
    # the temperature fitted on validation travels in best.pt: eval's probabilities equal finetune's
    assert state["temperature"] == saved["temperature"] and state["temperature"] > 0
    assert result["temperature"] == saved["temperature"]
    assert result["ece"] == pytest.approx(saved["test_ece"])
    for name in (
        "summary.json",
        "confusion_matrix.png",
        "reliability.png",
        "tsne.png",
        "predictions.csv",
        "per_recording.csv",
        "report.md",
        "training_curves.png",
    ):
        assert (tmp_path / "eval" / name).stat().st_size > 0, name
    assert "![training_curves](training_curves.png)" in (tmp_path / "eval" / "report.md").read_text()
    if model.startswith("multimodal"):
        assert (tmp_path / "eval" / "modality_weights.png").exists()
    per_class = json.loads((tmp_path / "eval" / "summary.json").read_text())["per_class"]
    assert set(per_class) == {"B", "IR", "OR"} and "recall" in per_class["IR"]


def test_eval_averages_an_ensemble_of_checkpoints(tmp_path):
    import pandas as pd

    runs = []
    for seed, extra in ((0, []), (1, []), (0, ['data.classes=["B","IR"]'])):
        cfg = load_config(recipe(tmp_path, "wdcnn"), [f"seed={seed}", "train.epochs=1", *extra])
        with start_run("finetune", cfg, out=tmp_path / f"run{len(runs)}") as run:
            fit(cfg, run, reporter=_Null())
        runs.append(tmp_path / f"run{len(runs)}")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    cmd = [sys.executable, "-m", "faultcli", "eval", "-c", str(runs[0]), "-c", str(runs[1] / "checkpoints" / "best.pt")]
    done = subprocess.run(cmd + ["--out", str(tmp_path / "ens")], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "ens" / "summary.json").read_text())["members"] == 2
    # each member's test probabilities (its own temperature applied), as finetune wrote them, averaged
    members = [pd.read_csv(run / "test" / "predictions.csv") for run in runs[:2]]
    ensemble = pd.read_csv(tmp_path / "ens" / "predictions.csv")
    columns = ["p_B", "p_IR", "p_OR"]
    assert (members[0][columns].to_numpy() != members[1][columns].to_numpy()).any()  # two different models
    expected = (members[0][columns].to_numpy() + members[1][columns].to_numpy()) / 2
    np.testing.assert_allclose(ensemble[columns].to_numpy(), expected, atol=2e-5)
    assert list(ensemble["file"]) == list(members[0]["file"])
    assert list(ensemble["predicted"]) == [columns[i][2:] for i in expected.argmax(1)]
    mixed = subprocess.run(cmd[:-2] + ["-c", str(runs[2])], capture_output=True, text=True, env=env)
    assert mixed.returncode == 2 and "classes" in mixed.stderr and "Traceback" not in mixed.stderr


def test_finetune_kfold_reports_mean_and_std(tmp_path):
    (tmp_path / "data").mkdir()
    write_recordings(tmp_path / "data", loads=(0, 1, 2, 3))
    cfg = load_config(recipe(tmp_path, "wdcnn"), ["data.split=kfold", "data.folds=3", "train.epochs=1"])
    with start_run("finetune", cfg, out=tmp_path / "run") as run:
        summary = fit(cfg, run, reporter=_Null())
    assert {"test_accuracy_mean", "test_accuracy_std", "test_macro_f1_mean", "test_macro_f1_std"} <= set(summary)
    assert (tmp_path / "run" / "fold-2" / "checkpoints" / "best.pt").exists()


def test_cli_finetune_resume_and_bad_checkpoint(tmp_path):
    r = recipe(tmp_path, "wdcnn")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "faultcli", "finetune", "--recipe", str(r), "--out", str(run)]
    done = subprocess.run(cmd + ["--set", "train.epochs=1"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    resumed = subprocess.run(
        [sys.executable, "-m", "faultcli", "finetune", "--resume", str(run), "--set", "train.epochs=2"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2
    averaged = subprocess.run(  # a plain run has no weight average to continue
        [sys.executable, "-m", "faultcli", "finetune", "--resume", str(run), "--set", "train.epochs=3"]
        + ["--set", "train.ema_epochs=2"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert averaged.returncode == 2 and "no weight average" in averaged.stderr
    assert "Traceback" not in averaged.stderr and len((run / "metrics.jsonl").read_text().splitlines()) == 2
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x00not a checkpoint")
    bad = subprocess.run(
        [sys.executable, "-m", "faultcli", "eval", "--checkpoint", str(junk)], capture_output=True, text=True, env=env
    )
    assert bad.returncode == 2 and "not a faultcli checkpoint" in bad.stderr
    assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


class _Null:
    from contextlib import contextmanager

    @contextmanager
    def task(self, description, total):
        class T:
            def advance(self, n=1, **fields):
                pass

        yield T()

    def info(self, message):
        pass


def test_eval_on_a_new_folder_lists_the_files_it_skipped(tmp_path):
    import shutil

    cfg = load_config(recipe(tmp_path, "wdcnn"), ["train.epochs=1"])
    with start_run("finetune", cfg, out=tmp_path / "run") as run:
        fit(cfg, run, reporter=_Null())
    new = tmp_path / "new"
    shutil.copytree(tmp_path / "data", new)
    (new / "IR007_9.mat").write_bytes(b"not a mat file")
    state, eval_cfg = checkpoint_config(tmp_path / "run", None, [f"data.root={new}"])
    with start_run("eval", eval_cfg, out=tmp_path / "eval") as eval_run:
        result = run_eval(state, eval_cfg, "all", eval_run, _Null())
    reasons = {item["file"]: item["reason"] for item in result["skipped"]}
    assert list(reasons) == ["IR007_9.mat"] and reasons["IR007_9.mat"].startswith("unreadable")
    saved = json.loads((tmp_path / "eval" / "summary.json").read_text())
    assert saved["skipped"] == result["skipped"] and sum(saved["rate_sources"].values()) == 6
