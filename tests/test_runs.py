import json
import os

import pytest

from faultcli.errors import TrainingError, UserError
from faultcli.runs import atomic_path, atomic_write_json, new_run_dir, open_run


def test_atomic_write_replaces_whole_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "summary.json"
    atomic_write_json(target, {"a": 1})
    atomic_write_json(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert os.listdir(tmp_path) == ["summary.json"]


def test_atomic_path_keeps_old_file_when_writer_fails(tmp_path):
    target = tmp_path / "model.pt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["model.pt"]


def test_run_dirs_never_collide_and_out_must_be_new(tmp_path):
    a = new_run_dir("prep", "x", root=tmp_path)
    a.mkdir(parents=True)
    b = new_run_dir("prep", "x", root=tmp_path)
    assert a != b and b.name.startswith(a.name)
    with pytest.raises(UserError, match="already exists"):
        new_run_dir("prep", "x", out=a)


def test_bad_input_removes_run_folder_but_training_error_keeps_it(tmp_path):
    failed = tmp_path / "failed"
    with pytest.raises(UserError), open_run(failed, "x = 1\n"):
        raise UserError("bad file")
    assert not failed.exists()
    kept = tmp_path / "kept"
    with pytest.raises(TrainingError), open_run(kept, "x = 1\n") as run:
        run.write_summary({"ok": 1})
        raise TrainingError("nan loss")
    assert (kept / "config.toml").exists() and (kept / "run.log").exists()
