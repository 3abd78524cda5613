"""--resume takes the newest valid checkpoint and puts right what an interruption leaves behind."""

from __future__ import annotations

import errno
import json
import os
import sys

import pytest
import torch

from faultcli.engine.checkpoints import load_checkpoint, save_checkpoint
from faultcli.errors import CheckpointError
from faultcli.services.resume import newest_valid, remove_temporaries, repair_best, resume_run, trim_metrics
from tests.services.test_finetune import recipe

TIMING = {"train_seconds", "epoch_seconds"}


def state(epoch: int, best_epoch: int | None = None) -> dict:
    callbacks = {} if best_epoch is None else {"checkpoint": {"best_epoch": best_epoch}}
    return {"model": {"w": torch.full((2,), float(epoch))}, "config": {}, "epoch": epoch, "callbacks": callbacks}


def test_a_corrupt_last_is_skipped_for_the_newest_valid_checkpoint(tmp_path):
    warnings: list[str] = []
    save_checkpoint(tmp_path / "best.pt", state(2))
    save_checkpoint(tmp_path / "epoch-4.pt", state(4))
    save_checkpoint(tmp_path / "epoch-5.pt", state(5))
    (tmp_path / "epoch-5.pt").write_bytes((tmp_path / "epoch-5.pt").read_bytes()[:-1])
    save_checkpoint(tmp_path / "last.pt", state(6))
    assert newest_valid(tmp_path, tmp_path / "last.pt", warnings.append)[0] == tmp_path / "last.pt"
    (tmp_path / "last.pt").write_bytes((tmp_path / "last.pt").read_bytes()[:1000])
    chosen, got = newest_valid(tmp_path, tmp_path / "last.pt", warnings.append)
    assert chosen == tmp_path / "epoch-4.pt" and got["epoch"] == 4
    assert any("last.pt" in w and "checksum mismatch" in w for w in warnings)
    assert any("epoch-5.pt" in w for w in warnings) and "resuming from" in warnings[-1]


def test_no_valid_checkpoint_is_one_line(tmp_path):
    (tmp_path / "last.pt").write_bytes(b"PK\x03\x04cut")
    (tmp_path / "best.pt").write_text("junk")
    with pytest.raises(CheckpointError, match="no valid checkpoint in") as err:
        newest_valid(tmp_path, tmp_path / "last.pt", lambda m: None)
    assert "\n" not in str(err.value) and "last.pt is truncated" in str(err.value)
    empty = tmp_path / "run" / "checkpoints"
    empty.mkdir(parents=True)
    with pytest.raises(CheckpointError, match="no checkpoint yet.*config.toml"):
        resume_run(tmp_path / "run", [], None)


def test_best_behind_last_is_rewritten_from_last(tmp_path):
    warnings: list[str] = []
    save_checkpoint(tmp_path / "best.pt", state(1, best_epoch=0))
    last = state(3, best_epoch=2)  # the run stopped after last.pt of epoch 3, before its best.pt
    save_checkpoint(tmp_path / "last.pt", last)
    repair_best(tmp_path, tmp_path / "last.pt", last, warnings.append)
    assert load_checkpoint(tmp_path / "best.pt")["epoch"] == 3 and "holds epoch 1; rewritten" in warnings[0]
    repair_best(tmp_path, tmp_path / "last.pt", last, warnings.append)  # in step now: nothing to do
    assert len(warnings) == 1
    stopped = {**state(3, best_epoch=1), "partial": {"step": 2}}  # stopped mid-epoch: not the end of epoch 2
    save_checkpoint(tmp_path / "best.pt", state(1, best_epoch=0))
    with pytest.raises(CheckpointError, match="selected epoch 2 as the best"):
        repair_best(tmp_path, tmp_path / "last.pt", stopped, warnings.append)
    earlier = state(4, best_epoch=1)  # a best.pt of another epoch cannot be made from last.pt
    with pytest.raises(CheckpointError, match="selected epoch 2 as the best"):
        repair_best(tmp_path, tmp_path / "last.pt", earlier, warnings.append)


def test_metrics_of_epochs_past_the_checkpoint_and_cut_lines_are_dropped(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"epoch": 0}\n{"epoch": 1}\n{"epoch": 2}\n{"epo')
    warnings: list[str] = []
    trim_metrics(path, 2, warnings.append)
    assert path.read_text() == '{"epoch": 0}\n{"epoch": 1}\n' and "dropped 2 line(s)" in warnings[0]
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / ".last.pt.tmp").write_bytes(b"half")
    (tmp_path / "keep.txt").write_text("x")
    remove_temporaries(tmp_path, warnings.append)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["checkpoints", "keep.txt", "metrics.jsonl"]


class Recorder:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def task(self, description, total):
        from contextlib import nullcontext

        class T:
            def advance(self, n=1, **fields):
                pass

        return nullcontext(T())

    def info(self, message: str) -> None:
        self.lines.append(message)


def in_process(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    from faultcli.cli.app import main

    monkeypatch.setattr(sys, "argv", ["faultcli", *args])
    with pytest.raises(SystemExit) as stop:
        main()
    return stop.value.code or 0, capsys.readouterr().err


def test_a_full_disk_mid_training_ends_in_one_line_and_the_run_resumes(tmp_path, monkeypatch, capsys):
    if not os.path.exists("/proc/self/fd"):
        pytest.skip("needs /proc to tell file descriptors apart")
    monkeypatch.setenv("COLUMNS", "300")
    run = tmp_path / "run"
    sets = ["train.epochs=3", "train.max_train_batches=3", "train.threads=1", "eval.tsne_max_points=10"]
    argv = ["finetune", "--recipe", str(recipe(tmp_path, "wdcnn")), "--out", str(run)]
    argv += [a for s in sets for a in ("--set", s)]
    real, saves = os.write, []

    def full_on_second_last(fd, data):
        if os.readlink(f"/proc/self/fd/{fd}").endswith(".last.pt.tmp"):
            saves.append(fd)
            if len(saves) > 1:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, data)

    with monkeypatch.context() as patch:
        patch.setattr(os, "write", full_on_second_last)
        code, err = in_process(monkeypatch, capsys, *argv)
    assert code == 2 and "No space left on device" in err and "last.pt" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert load_checkpoint(run / "checkpoints" / "last.pt")["epoch"] == 1  # the last good one, kept
    assert not [p for p in (run / "checkpoints").iterdir() if ".tmp" in p.name]

    code, err = in_process(monkeypatch, capsys, "finetune", "--resume", str(run))
    assert code == 0, err
    done = json.loads((run / "summary.json").read_text())
    assert done["epochs_run"] == 3 and len((run / "metrics.jsonl").read_text().splitlines()) == 3

    # a damaged last.pt: the run goes on from best.pt and ends with the same figures
    last = run / "checkpoints" / "last.pt"
    last.write_bytes(last.read_bytes()[:-7] + b"garbage")
    reporter = Recorder()
    summary, _ = resume_run(run, [], reporter)
    assert any(line.startswith(f"skipping {last}") and "checksum mismatch" in line for line in reporter.lines)
    assert any("resuming from" in line and "best.pt" in line for line in reporter.lines)
    assert {k: v for k, v in summary.items() if k not in TIMING} == {k: v for k, v in done.items() if k not in TIMING}
    assert "skipping" in (run / "run.log").read_text()
