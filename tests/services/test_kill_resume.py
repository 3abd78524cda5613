"""A finetune killed (SIGKILL) at 10 seeded moments, some of them inside checkpoint writes, and resumed each
time: no file of the run is ever half-written, and the run ends with the figures of an uninterrupted one.

Runs are forked from one server process that imported faultcli once (it never computes with torch before
forking, so the children start in milliseconds); each child runs the real CLI, ``faultcli finetune``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import torch

from faultcli.engine.checkpoints import load_checkpoint
from faultcli.errors import UserError
from faultcli.services.resume import resume_run
from tests.services.test_finetune import _Null, recipe

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

ROOT = Path(__file__).resolve().parents[2]
OVERRIDES = ["train.epochs=6", "train.max_train_batches=4", "train.threads=1", "eval.tsne_max_points=10"]
TIMING = {"train_seconds", "epoch_seconds"}

SERVER = r"""
import os, sys, time, traceback
import torch
torch.set_num_threads(1)
import faultcli.cli.app as app
import faultcli.services.fit, faultcli.services.resume, faultcli.tasks, faultcli.plots  # noqa: F401

real_fsync = os.fsync

def slow_fsync(fd):
    # widens the moment between a file's write and its rename, so a kill can land inside it
    time.sleep(0.004)
    real_fsync(fd)

for line in sys.stdin:
    cmd, *args = line.rstrip("\n").split("\t")
    if cmd == "wait":
        _, status = os.waitpid(int(args[0]), 0)
        print(os.waitstatus_to_exitcode(status), flush=True)
        continue
    pid = os.fork()
    if pid == 0:
        fd = os.open(args[0], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.fsync = slow_fsync
        sys.argv = ["faultcli", *args[1:]]
        code = 0
        try:
            app.main()
        except SystemExit as err:
            code = err.code if isinstance(err.code, int) else int(err.code is not None)
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    print(pid, flush=True)
"""


class Server:
    """Forks ``faultcli`` runs on request; ``wait`` reaps one and gives its exit code (-9: killed)."""

    def __init__(self, folder: Path) -> None:
        script = folder / "server.py"
        script.write_text(SERVER)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        self.logs = folder / "logs"
        self.logs.mkdir()
        self.count = 0

    def _ask(self, *parts: str) -> int:
        self.proc.stdin.write("\t".join(parts) + "\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def start(self, *argv: str) -> tuple[int, Path]:
        self.count += 1
        log = self.logs / f"{self.count}.log"
        return self._ask("run", str(log), *argv), log

    def wait(self, pid: int) -> int:
        return self._ask("wait", str(pid))

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def finetune(recipe_path: Path, out: Path) -> list[str]:
    sets = [arg for o in OVERRIDES for arg in ("--set", o)]
    return ["finetune", "--recipe", str(recipe_path), "--out", str(out), *sets]


def temporaries(folder: Path) -> list[str]:
    try:
        return [e.name for e in os.scandir(folder) if e.name.startswith(".") and ".tmp" in e.name]
    except FileNotFoundError:
        return []


def kill_at_a_write(pid: int, folder: Path, skip: int, timeout: float = 15.0) -> bool:
    """SIGKILL ``pid`` while a temporary file is in ``folder``, at the ``skip``-th write seen (counting from 0);
    True if it was killed inside a write."""
    seen, before, end = 0, set(), time.monotonic() + timeout
    while time.monotonic() < end:
        now = set(temporaries(folder))
        if now - before:
            if seen == skip:
                os.kill(pid, signal.SIGKILL)
                return True
            seen += 1
        before = now
        time.sleep(0.0005)
    os.kill(pid, signal.SIGKILL)
    return False


def check_whole(run: Path) -> None:
    """Every file faultcli wrote is whole: checkpoints load (and verify), JSON and TOML parse, every metrics
    line parses."""
    for path in run.rglob("*"):
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.suffix == ".pt":
            load_checkpoint(path)
        elif path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".toml":
            tomllib.loads(path.read_text())
        elif path.suffix == ".jsonl":
            for line in path.read_text().splitlines():
                json.loads(line)


def figures(run: Path) -> dict:
    summary = json.loads((run / "summary.json").read_text())
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return {
        "summary": {k: v for k, v in summary.items() if k not in TIMING},
        "metrics": [{k: v for k, v in m.items() if k not in TIMING} for m in metrics],
        "predictions": (run / "test" / "predictions.csv").read_text(),
    }


def test_killed_and_resumed_finetune_ends_as_an_uninterrupted_one(tmp_path):
    recipe_path = recipe(tmp_path, "wdcnn")
    server = Server(tmp_path)
    rng = random.Random(20240607)
    try:
        ref = tmp_path / "ref"
        pid, log = server.start(*finetune(recipe_path, ref))
        assert server.wait(pid) == 0, log.read_text()[-2000:]

        run = tmp_path / "run"
        kills = in_writes = restarts = 0
        while kills < 10:
            fresh = not any((run / "checkpoints").glob("*.pt"))
            if fresh:  # killed before its first checkpoint: nothing to resume, so it starts again
                if run.exists():
                    with pytest.raises(UserError, match="no checkpoints/ folder|no checkpoint yet") as err:
                        resume_run(run, [], _Null())
                    assert "\n" not in str(err.value)
                    shutil.rmtree(run)
                    restarts += 1
                argv = finetune(recipe_path, run)
            else:
                argv = ["finetune", "--resume", str(run)]
            pid, log = server.start(*argv)
            if kills % 2 == 0:
                in_writes += kill_at_a_write(pid, run / "checkpoints", rng.randrange(0, 8))
            else:
                time.sleep(rng.uniform(0.05, 1.5))
                os.kill(pid, signal.SIGKILL)
            code = server.wait(pid)
            assert code in (-signal.SIGKILL, 0), log.read_text()[-2000:]
            kills += code == -signal.SIGKILL
            check_whole(run)

        pid, log = server.start("finetune", "--resume", str(run))
        assert server.wait(pid) == 0, log.read_text()[-2000:]
    finally:
        server.close()

    check_whole(run)
    assert in_writes >= 3, f"only {in_writes} kills landed inside a write"
    assert not [p for p in run.rglob(".*") if ".tmp" in p.name]
    assert figures(run) == figures(ref)
    for name in ("best.pt", "last.pt"):
        got, want = load_checkpoint(run / "checkpoints" / name), load_checkpoint(ref / "checkpoints" / name)
        assert got["epoch"] == want["epoch"]
        for key, tensor in want["model"].items():
            assert torch.equal(got["model"][key], tensor), (name, key)
