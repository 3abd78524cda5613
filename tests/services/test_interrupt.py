"""Ctrl-C and SIGTERM during `faultcli finetune`: one line saying where training stopped and how to resume,
exit code 130, the run folder kept; `--resume` then ends with the figures of an uninterrupted run."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.services.test_finetune import recipe

SETTINGS = ["--set", "train.threads=1", "--set", "train.epochs=6", "--set", "eval.tsne_max_points=10"]
TIMING = {"epoch_seconds", "train_seconds"}


def start(args: list[str], cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "faultcli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=terminal_signals,
    )


def terminal_signals() -> None:
    """Ctrl-C acts as in a terminal even when the tests run as a background job (which ignores SIGINT)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def figures(folder: Path) -> tuple[list[dict], dict]:
    metrics = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    metrics = [{k: v for k, v in m.items() if k not in TIMING} for m in metrics]
    summary = json.loads((folder / "summary.json").read_text())
    return metrics, {k: v for k, v in summary.items() if k.startswith("test_")}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("interrupt")
    path = recipe(tmp_path, "wdcnn", "")
    reference = start(["finetune", "--recipe", str(path), *SETTINGS, "--out", "whole"], tmp_path)
    assert reference.wait(timeout=300) == 0, reference.stderr.read().decode()[-2000:]
    return tmp_path, path


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_training_and_resume_finishes_it(uninterrupted, signum):
    tmp_path, path = uninterrupted
    run = start(["finetune", "--recipe", str(path), *SETTINGS, "--out", f"cut-{signum.name}"], tmp_path)
    cut = f"cut-{signum.name}"
    metrics = tmp_path / cut / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while not (metrics.exists() and metrics.read_text().count("\n") >= 2) and time.monotonic() < deadline:
        time.sleep(0.05)
    run.send_signal(signum)
    _, stderr = run.communicate(timeout=120)
    stderr = stderr.decode()
    assert run.returncode == 130, stderr[-2000:]
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: training stopped by " + signum.name), stderr
    assert f"--resume {cut}" in lines[0]
    assert not (tmp_path / cut / "summary.json").exists()

    resumed = start(["finetune", "--resume", cut], tmp_path)
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read().decode()[-2000:]
    assert figures(tmp_path / cut) == figures(tmp_path / "whole")
