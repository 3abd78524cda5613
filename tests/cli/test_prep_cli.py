"""`faultcli prep` as a user runs it: exit codes, one-line errors, no traceback, no half run folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io


def faultcli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "faultcli", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def in_process(cwd: Path, monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """``faultcli.cli.app.main`` in this process (faster than a subprocess; same error mapping)."""
    from faultcli.cli.app import main

    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["faultcli", *args])
    with pytest.raises(SystemExit) as stop:
        main()
    captured = capsys.readouterr()
    return stop.value.code, captured.out, captured.err


def run_folders(cwd: Path) -> list[Path]:
    # runs/<command>/<name>-<time>; the `latest` link is not a run
    return sorted(p for p in (cwd / "runs").glob("*/*") if not p.is_symlink())


@pytest.fixture
def project(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    for cls in ("inner", "normal"):
        (tmp_path / "raw" / cls).mkdir(parents=True)
        for load in range(2):
            np.save(tmp_path / "raw" / cls / f"{cls}_{load}hp.npy", rng.standard_normal(3000))
    (tmp_path / "tiny.toml").write_text('[data]\nroot = "raw"\nwindow = 256\nstep = 128\n')
    return tmp_path


def test_prep_prints_counts_and_the_run_folder(project):
    done = faultcli(project, "prep", "--recipe", "tiny.toml")
    assert done.returncode == 0, done.stderr
    assert "inner" in done.stdout and "train" in done.stdout and "test" in done.stdout
    (run,) = run_folders(project)
    assert f"run folder: {run.relative_to(project)}" in done.stdout
    assert (run / "summary.json").is_file() and (run / "manifest.json").is_file()


def _corrupt_mat(root: Path) -> None:
    (root / "inner" / "broken.mat").write_text("plain text, not MATLAB")


def _mat_without_signal(root: Path) -> None:
    scipy.io.savemat(root / "inner" / "meta.mat", {"temperature": np.ones(4)})


def _nan_signal(root: Path) -> None:
    signal = np.ones(3000)
    signal[77] = np.inf
    np.save(root / "normal" / "normal_5hp.npy", signal)


def _short_class(root: Path) -> None:
    (root / "tiny").mkdir()
    np.save(root / "tiny" / "t.npy", np.ones(600))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["data.root=missing"], "data.root missing does not exist"),
        (["data.root=raw/inner/inner_0hp.npy", "data.format=mat"], "holds no readable files"),
    ],
)
def test_bad_input_in_a_subprocess_exits_2_with_one_line(project, overrides, message):
    args = [arg for o in overrides for arg in ("--set", o)]
    done = faultcli(project, "prep", "--recipe", "tiny.toml", *args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert run_folders(project) == []


@pytest.mark.parametrize(
    ("setup", "overrides", "message"),
    [
        (lambda r: (r.parent / "empty").mkdir(), ["data.root=empty"], "holds no readable files"),
        (_corrupt_mat, [], "inner/broken.mat is not a readable MATLAB file"),
        (_mat_without_signal, [], "meta.mat has no vibration variable (keys found: temperature)"),
        (None, ["data.window=4000", "data.step=1000"], "has 3000 samples at 12000 Hz, fewer than data.window = 4000"),
        (_short_class, [], "class 'tiny' has no windows in the val split"),
        (_nan_signal, [], "normal/normal_5hp.npy: sample 77 is inf"),
        (None, ['data.classes=["inner","cage"]'], "data.classes lists 'cage'"),
        (None, ["data.split=by-file"], "class 'inner' has 2 recording(s), too few for data.split = by-file"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_run_folder(project, monkeypatch, capsys, setup, overrides, message):
    if setup:
        setup(project / "raw")
    args = [arg for o in overrides for arg in ("--set", o)]
    code, out, err = in_process(project, monkeypatch, capsys, "prep", "--recipe", "tiny.toml", *args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], err
    assert "Traceback" not in err + out
    assert run_folders(project) == []


def test_out_that_exists_exits_2(project):
    (project / "taken").mkdir()
    done = faultcli(project, "prep", "--recipe", "tiny.toml", "--out", "taken")
    assert done.returncode == 2 and "--out taken already exists" in done.stderr
    assert list((project / "taken").iterdir()) == []


def test_out_names_the_run_folder(project, monkeypatch, capsys):
    code, out, err = in_process(project, monkeypatch, capsys, "prep", "-r", "tiny.toml", "--out", "myrun")
    assert code == 0, err
    assert (project / "myrun" / "summary.json").is_file() and "run folder: myrun" in out


def test_print_config_shows_the_resolved_recipe_and_runs_nothing(project):
    done = faultcli(project, "prep", "--recipe", "tiny.toml", "--set", "data.step=64", "--print-config")
    assert done.returncode == 0, done.stderr
    assert "[data]" in done.stdout and "step = 64" in done.stdout and 'split = "recording-time"' in done.stdout
    assert not (project / "runs").exists()


def test_no_recipe_exits_2(project, monkeypatch, capsys):
    code, _, err = in_process(project, monkeypatch, capsys, "prep")
    assert code == 2 and "--recipe" in err


def terminal_signals() -> None:
    """Ctrl-C acts as in a terminal even when the tests run as a background job (which ignores SIGINT)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(("signum", "name"), [(2, "Ctrl-C"), (15, "SIGTERM")])
def test_a_signal_during_prep_is_one_line_and_exit_130(tmp_path, signum, name):
    import signal
    import time

    rng = np.random.default_rng(0)
    for cls in ("inner", "normal"):  # enough recordings that reading them takes a while
        (tmp_path / "raw" / cls).mkdir(parents=True)
        for k in range(60):
            np.save(tmp_path / "raw" / cls / f"{cls}_{k}.npy", rng.standard_normal(400_000).astype(np.float32))
    (tmp_path / "r.toml").write_text(f'[data]\nroot = "raw"\nwindow = 256\nstep = 128\ncache_dir = "{tmp_path}/c"\n')
    proc = subprocess.Popen(
        [sys.executable, "-m", "faultcli", "prep", "--recipe", "r.toml", "--out", "run"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=terminal_signals,
    )
    deadline = time.monotonic() + 60
    while not (tmp_path / "run" / "run.log").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.Signals(signum))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip().splitlines() == [f"error: interrupted by {name}; files already written are kept"]
    assert "Traceback" not in (tmp_path / "run" / "run.log").read_text()
