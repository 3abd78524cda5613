"""Checkpoint files: a SHA-256 checksum file beside each, checked on load; loading never runs code."""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess

import pytest
import torch

from faultcli.engine import checkpoints as ck
from faultcli.engine.checkpoints import checksum_path, load_checkpoint, save_checkpoint
from faultcli.errors import CheckpointError
from faultcli.runs import RunWriteError


def state(epoch: int = 1) -> dict:
    return {"model": {"w": torch.full((3,), float(epoch))}, "config": {"seed": 0}, "epoch": epoch}


def test_save_writes_a_checksum_file_that_sha256sum_accepts(tmp_path):
    path = tmp_path / "last.pt"
    save_checkpoint(path, state())
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert checksum_path(path).read_text() == f"{digest}  last.pt\n"
    assert sorted(os.listdir(tmp_path)) == ["last.pt", "last.pt.sha256"]
    done = subprocess.run(["sha256sum", "-c", "last.pt.sha256"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0 and "OK" in done.stdout
    assert load_checkpoint(path)["epoch"] == 1


def test_a_changed_byte_is_a_one_line_checksum_error(tmp_path):
    path = tmp_path / "last.pt"
    save_checkpoint(path, state())
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"is corrupt \(checksum mismatch\); use last.pt") as err:
        load_checkpoint(path)
    assert "\n" not in str(err.value)


def test_a_checkpoint_without_checksum_file_still_loads_and_a_truncated_one_is_named(tmp_path):
    path = tmp_path / "old.pt"
    torch.save(state(4), path)  # as faultcli wrote checkpoints before checksums
    assert load_checkpoint(path)["epoch"] == 4
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(CheckpointError, match="is truncated or damaged") as err:
        load_checkpoint(path)
    assert "\n" not in str(err.value)


class _Marker:
    """Unpickling this would create a file, if pickled code were ever run."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_crafted_pickle_runs_no_code_and_is_one_line(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"model": {}, "config": {}, "payload": _Marker(str(marker))}, path)
    with pytest.raises(CheckpointError, match="nothing in it was run") as err:
        load_checkpoint(path)
    assert not marker.exists() and "\n" not in str(err.value)
    # with a checksum file that vouches for it, the file is still refused
    save_path = tmp_path / "vouched.pt"
    save_path.write_bytes(path.read_bytes())
    checksum_path(save_path).write_text(hashlib.sha256(path.read_bytes()).hexdigest() + "  vouched.pt\n")
    with pytest.raises(CheckpointError, match="not a faultcli checkpoint"):
        load_checkpoint(save_path)
    assert not marker.exists()


def test_a_save_cut_between_its_renames_leaves_a_file_that_verifies(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    save_checkpoint(path, state(1))
    real = ck.atomic_write_bytes

    def killed(target, data):  # the checksum file is rewritten, then the process dies before the checkpoint
        raise KeyboardInterrupt

    monkeypatch.setattr(ck, "atomic_write_bytes", killed)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, state(2))
    assert len(checksum_path(path).read_text().splitlines()) == 2  # the new digest and the file's
    assert load_checkpoint(path)["epoch"] == 1
    monkeypatch.setattr(ck, "atomic_write_bytes", real)
    save_checkpoint(path, state(3))
    assert load_checkpoint(path)["epoch"] == 3 and len(checksum_path(path).read_text().splitlines()) == 1


def test_a_corrupt_file_is_not_vouched_for_by_the_next_save(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    save_checkpoint(path, state(1))
    path.write_bytes(path.read_bytes()[:-10])
    monkeypatch.setattr(ck, "atomic_write_bytes", lambda target, data: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, state(2))
    assert len(checksum_path(path).read_text().splitlines()) == 1
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        load_checkpoint(path)


def test_a_full_disk_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    save_checkpoint(path, state(1))
    real_write = os.write

    def full(fd, data):
        if os.readlink(f"/proc/self/fd/{fd}").endswith(".last.pt.tmp"):
            real_write(fd, bytes(data)[:100])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    if not os.path.exists("/proc/self/fd"):
        pytest.skip("needs /proc to tell file descriptors apart")
    monkeypatch.setattr(os, "write", full)
    with pytest.raises(RunWriteError, match="No space left on device") as err:
        save_checkpoint(path, state(2))
    assert "\n" not in str(err.value) and "--resume" in str(err.value) and str(path) in str(err.value)
    monkeypatch.undo()
    assert load_checkpoint(path)["epoch"] == 1
    assert sorted(os.listdir(tmp_path)) == ["last.pt", "last.pt.sha256"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"classes": 5}, "'classes' should be a list of class names, not int"),
        ({"classes": ["a", 2]}, "'classes' should be a list of class names, not list"),
        ({"config": [1, 2]}, "'config' should be a dict"),
        ({"model_kwargs": "oops"}, "'model_kwargs' should be a dict of builder arguments, not str"),
        ({"data_info": None}, "'data_info' should be a dict, not NoneType"),
        ({"epoch": True}, "'epoch' should be an integer, not bool"),
    ],
)
def test_a_hand_edited_checkpoint_is_one_line_error(tmp_path, edit, message):
    path = tmp_path / "best.pt"
    torch.save({**state(), "classes": ["a", "b"], **edit}, path)  # no checksum file: an edited foreign file
    with pytest.raises(CheckpointError, match="not a usable faultcli checkpoint") as err:
        load_checkpoint(path)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_eval_needs_the_fields_of_a_trained_model(tmp_path):
    from faultcli.services.evaluate import load_checkpoint_or_run

    torch.save(state(), tmp_path / "best.pt")
    with pytest.raises(CheckpointError, match="not a trained faultcli model .no classes, model_name, model_kwargs"):
        load_checkpoint_or_run(tmp_path / "best.pt")
