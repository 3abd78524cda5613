"""Run folders stay where they are asked for and never replace what faultcli did not write; write errors are
one line and keep what was written before."""

from __future__ import annotations

import errno
import json
import os

import pytest

from faultcli import runs
from faultcli.errors import UserError
from faultcli.runs import (
    Run,
    RunWriteError,
    append_jsonl,
    atomic_path,
    atomic_write_json,
    new_run_dir,
    open_run,
    point_latest,
)


@pytest.mark.parametrize("name", ["../../x", "a/b", "a\\b", "..", ".", "", "x\0y", "é" * 60])
def test_run_names_with_separators_or_dots_are_refused(tmp_path, name):
    with pytest.raises(UserError, match="not a plain folder name") as err:
        new_run_dir("finetune", name, root=tmp_path / "runs")
    assert "recipe's name" in str(err.value) and "\n" not in str(err.value)


def test_run_file_names_never_leave_the_run_folder(tmp_path):
    run = Run(tmp_path / "run", None)
    assert run.file("test", "a.csv") == tmp_path / "run" / "test" / "a.csv"
    for bad in ("../x.json", "/tmp/x.json"):
        with pytest.raises(UserError, match="would leave the run folder"):
            run.file(bad)
    assert not (tmp_path / "x.json").exists()


def test_latest_follows_its_own_link_but_leaves_a_users_file_alone(tmp_path):
    parent = tmp_path / "runs" / "finetune"
    a, b = parent / "a-1", parent / "b-2"
    a.mkdir(parents=True)
    b.mkdir()
    assert point_latest(a) and os.readlink(parent / "latest") == "a-1"
    assert point_latest(b) and os.readlink(parent / "latest") == "b-2"
    warnings: list[str] = []
    (parent / "latest").unlink()
    (parent / "latest").write_text("my notes")
    assert not point_latest(a, warnings.append)
    assert (parent / "latest").read_text() == "my notes" and "not a link faultcli made" in warnings[0]
    (parent / "latest").unlink()
    (parent / "latest").symlink_to(tmp_path)  # a user's link elsewhere
    assert not point_latest(a) and os.readlink(parent / "latest") == str(tmp_path)
    assert "not a link faultcli made" in (a / "run.log").read_text()
    (parent / "latest").unlink()
    (parent / "latest").mkdir()
    assert not point_latest(a, warnings.append) and (parent / "latest").is_dir()
    assert not [p for p in os.listdir(parent) if p.startswith(".")]


def test_out_must_be_a_new_folder_that_can_be_made(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "dangling").symlink_to(tmp_path / "missing")
    cases = {
        tmp_path / "file": "already exists",
        tmp_path / "dangling": "symbolic link to a missing target",
        tmp_path / "file" / "run": "which is a file",
        tmp_path / "dangling" / "run": "missing target",
        tmp_path / ("x" * 300): "longer than this file system allows",
        tmp_path / "new" / ("y" * 300) / "run": "longer than this file system allows",
    }
    for out, message in cases.items():
        with pytest.raises(UserError, match=message) as err:
            new_run_dir("finetune", "x", out=out)
        assert "\n" not in str(err.value)
    assert new_run_dir("finetune", "x", out=tmp_path / "a" / "b") == tmp_path / "a" / "b"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="permissions do not bind root")
def test_out_in_a_read_only_folder_is_one_line(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(UserError, match="read-only"):
            new_run_dir("finetune", "x", out=locked / "run")
    finally:
        locked.chmod(0o755)


def test_a_folder_that_cannot_be_made_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    real = os.mkdir

    def denied(path, *args, **kwargs):
        if str(path).endswith("run"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", denied)
    with pytest.raises(RunWriteError, match="Permission denied") as err, open_run(tmp_path / "a" / "b" / "run", ""):
        pass
    assert "\n" not in str(err.value) and os.listdir(tmp_path) == []


def test_a_failed_run_removes_the_parents_it_made_but_not_older_ones(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(UserError), open_run(tmp_path / "mine" / "new" / "deeper" / "run", "x = 1\n"):
        raise UserError("bad file")
    assert os.listdir(tmp_path) == ["mine"] and os.listdir(tmp_path / "mine") == ["notes.txt"]


def test_a_full_disk_while_writing_the_config_leaves_nothing(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(RunWriteError, match="No space left") as err, open_run(tmp_path / "new" / "run", "x = 1\n"):
        pass
    assert "\n" not in str(err.value) and os.listdir(tmp_path) == []


def test_a_full_disk_during_a_run_keeps_the_run_and_its_earlier_files(tmp_path, monkeypatch):
    with pytest.raises(RunWriteError, match="No space left"), open_run(tmp_path / "run", "x = 1\n") as run:
        run.write_summary({"epoch": 1})
        monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full")))
        run.write_summary({"epoch": 2})
    monkeypatch.undo()
    assert json.loads((tmp_path / "run" / "summary.json").read_text()) == {"epoch": 1}
    assert sorted(os.listdir(tmp_path / "run")) == ["config.toml", "run.log", "summary.json"]
    assert "No space left" in (tmp_path / "run" / "run.log").read_text()


def test_a_metrics_line_cut_short_by_a_full_disk_is_taken_back(tmp_path, monkeypatch):
    path = tmp_path / "metrics.jsonl"
    append_jsonl(path, {"epoch": 0})
    real = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real(fd, bytes(data)[:5]))
    with pytest.raises(RunWriteError, match="No space left"):
        append_jsonl(path, {"epoch": 1, "loss": 0.5})
    monkeypatch.undo()
    assert path.read_text() == '{"epoch": 0}\n'


def test_a_writer_that_fails_on_its_own_path_is_one_line_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "plot.png"
    target.write_bytes(b"old")
    with pytest.raises(RunWriteError, match="Read-only file system"), atomic_path(target):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["plot.png"]


def test_a_temporary_file_left_by_a_killed_write_is_replaced(tmp_path):
    target = tmp_path / "summary.json"
    (tmp_path / ".summary.json.tmp").write_text("half")  # what a killed process leaves
    atomic_write_json(target, {"a": 1})
    assert os.listdir(tmp_path) == ["summary.json"] and json.loads(target.read_text()) == {"a": 1}


def test_an_unwritable_run_log_is_one_line(tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(runs._QuietFileHandler, "_open", denied)
    with pytest.raises(RunWriteError, match="run.log: Permission denied"), open_run(tmp_path / "run", ""):
        pass
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--name", "../../x", "not a plain folder name"),
        ("--out", "file/run", "which is a file"),
        ("--out", "dangling", "missing target"),
        ("--out", "z" * 300, "longer than this file system allows"),
    ],
)
def test_cli_refuses_bad_run_paths_with_one_line_and_exit_2(tmp_path, monkeypatch, capsys, flag, value, message):
    import sys

    from faultcli.cli.app import main
    from tests.services.test_finetune import recipe

    (tmp_path / "file").write_text("x")
    (tmp_path / "dangling").symlink_to(tmp_path / "missing")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "300")
    before = sorted(os.listdir(tmp_path))
    argv = ["faultcli", "finetune", "--recipe", str(recipe(tmp_path, "wdcnn")), flag, value]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as stop:
        main()
    err = capsys.readouterr().err
    assert stop.value.code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert sorted(os.listdir(tmp_path)) == sorted({*before, "data", "wdcnn.toml"})  # no run folder, no runs/
