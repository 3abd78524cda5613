"""`torchrun --nproc_per_node 2 -m faultcli finetune` with the recipe a single process trains: one run
folder written by the main process, figures over the whole test split, a non-finite loss stopping both."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services.test_finetune import recipe

TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]


def faultcli(args: list[str], cwd: Path, processes: int = 1) -> subprocess.CompletedProcess:
    launcher = TORCHRUN if processes == 2 else [sys.executable]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [*launcher, "-m", "faultcli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


SETTINGS = ["--set", "train.threads=1", "--set", "train.epochs=3", "--set", "vibration.mixup_alpha=0.0"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("torchrun")
    path = recipe(tmp, "wdcnn", "")
    two = faultcli(
        ["finetune", "--recipe", str(path), *SETTINGS, "--set", "train.batch_size=8", "--out", "two"], tmp, 2
    )
    one = faultcli(["finetune", "--recipe", str(path), *SETTINGS, "--set", "train.batch_size=16", "--out", "one"], tmp)
    return tmp, one, two


def test_two_processes_write_one_run_folder(runs):
    tmp, _, two = runs
    assert two.returncode == 0, two.stderr[-2000:]
    assert sorted(p.name for p in tmp.iterdir() if p.is_dir()) == ["data", "one", "two"]
    metrics = [json.loads(line) for line in (tmp / "two" / "metrics.jsonl").read_text().splitlines()]
    assert [m["epoch"] for m in metrics] == [0, 1, 2]  # one line an epoch: only the main process logs
    log = (tmp / "two" / "run.log").read_text()
    assert log.count("effective batch 16 = 8 per batch × 2 processes (gloo) × 1 accumulated") == 1
    assert two.stdout.count("run folder:") == 1  # only the main process prints


def test_two_processes_match_one_process_with_the_same_effective_batch(runs):
    tmp, one, two = runs
    assert one.returncode == 0, one.stderr[-2000:]
    a = json.loads((tmp / "one" / "summary.json").read_text())
    b = json.loads((tmp / "two" / "summary.json").read_text())
    assert a["n_test"] == b["n_test"]  # the main process tests the whole split
    # BatchNorm sees half the batch in each process, so the runs differ a little, not in kind
    assert abs(a["test_accuracy"] - b["test_accuracy"]) <= 0.1


def test_a_non_finite_loss_stops_both_processes(tmp_path):
    path = recipe(tmp_path, "wdcnn", "")
    result = faultcli(
        ["finetune", "--recipe", str(path), "--set", "train.threads=1", "--set", "train.lr=1e30", "--out", "nan"],
        tmp_path,
        2,
    )
    assert result.returncode != 0
    assert "the loss became" in result.stderr
    assert result.stderr.count("error:") == 1


def test_two_processes_resume_a_run(runs):
    tmp, _, two = runs
    assert two.returncode == 0
    resumed = faultcli(["finetune", "--resume", "two", "--set", "train.epochs=4"], tmp, 2)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    metrics = [json.loads(line) for line in (tmp / "two" / "metrics.jsonl").read_text().splitlines()]
    assert [m["epoch"] for m in metrics] == [0, 1, 2, 3]
    assert (tmp / "two" / "run.log").read_text().count("resumed from") == 1


def test_two_processes_pretrain_then_finetune(tmp_path):
    from tests.services.test_pretrain import _recipe

    path = _recipe(tmp_path)
    result = faultcli(["pretrain", "--recipe", str(path), "--then-finetune", str(path), "--out", "pre"], tmp_path, 2)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads((tmp_path / "pre" / "summary.json").read_text())
    assert 0.0 <= summary["pretrain"]["test_knn_accuracy"] <= 1.0 and "test_accuracy" in summary
    assert (tmp_path / "pre" / "pretrain" / "encoder.pt").is_file()
