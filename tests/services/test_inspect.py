"""`faultcli inspect`: its files, how each input is found and stated, a checkpoint's verdict, and bad
input as one-line errors with exit code 2 (no run folder left behind)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from faultcli.diagnostics.bearings import BEARINGS
from faultcli.errors import ConfigError, DataError
from faultcli.progress import NullReporter
from faultcli.services.inspect import InspectOptions, run_inspect

RATE, RPM = 12000, 1772.0
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "diagnostics"))
from synthetic import impact_signal  # noqa: E402


def _outer_race(n: int = 2**16) -> np.ndarray:
    return impact_signal(RATE, n, BEARINGS["6205"].orders()["BPFO"] * RPM / 60, 3500.0, noise=1.0, tone=2.0)


@pytest.fixture
def cwru_like(tmp_path) -> Path:
    """A .mat file laid out as CWRU's: X<id>_DE_time, X<id>_FE_time and X<id>RPM, in a '12k' folder."""
    folder = tmp_path / "12k_drive_end"
    folder.mkdir()
    path = folder / "OR007@6_1.mat"
    x = _outer_race()
    scipy.io.savemat(path, {"X130_DE_time": x[:, None], "X130_FE_time": 0.1 * x[:, None], "X130RPM": RPM})
    return path


def test_page_report_and_summary_of_a_cwru_recording(cwru_like, tmp_path):
    out = tmp_path / "run"
    summary, folder = run_inspect(cwru_like, InspectOptions(), out, NullReporter())
    assert folder == out
    for name in ("inspect.png", "report.md", "summary.json", "config.toml", "run.log"):
        assert (out / name).is_file(), name
    assert (out / "inspect.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert summary["strongest"]["line"] == "BPFO"
    assert summary["sample_rate"] == RATE and "pattern '12k'" in summary["sample_rate_how"]
    assert summary["rpm"] == RPM and summary["rpm_how"] == "stated in the file"
    assert summary["bearing"]["name"] == "6205-2RS JEM SKF" and summary["bearing_how"].startswith("assumed")
    assert summary["band_how"].startswith("fast kurtogram")
    assert summary["band"][0] <= 3500 <= summary["band"][1]
    report = (out / "report.md").read_text()
    assert "named by its path (pattern '12k' = 12000 Hz)" in report
    assert "Strongest fault line: **BPFO**" in report and "![inspection page](inspect.png)" in report
    assert json.loads((out / "summary.json").read_text())["strongest"]["label"] == summary["strongest"]["label"]
    assert 'file = "' in (out / "config.toml").read_text()


def test_fan_end_channel_uses_the_fan_end_bearing_and_a_given_band(cwru_like, tmp_path):
    options = InspectOptions(channel="FE", band=(2000.0, 5000.0))
    summary, _ = run_inspect(cwru_like, options, tmp_path / "fe", NullReporter())
    assert summary["bearing"]["name"] == "6203-2RS JEM SKF" and summary["channel"] == "FE"
    assert summary["band"] == [2000.0, 5000.0] and summary["band_how"] == "given (--band)"


def test_a_plain_signal_needs_rate_speed_and_bearing_given(tmp_path):
    path = tmp_path / "pump.npy"
    np.save(path, _outer_race())
    with pytest.raises(DataError, match="sampling rate unknown.*--sample-rate HZ"):
        run_inspect(path, InspectOptions(), tmp_path / "a", NullReporter())
    with pytest.raises(DataError, match="states no shaft speed; pass it with --rpm"):
        run_inspect(path, InspectOptions(sample_rate=RATE), tmp_path / "b", NullReporter())
    with pytest.raises(ConfigError, match="no bearing given"):
        run_inspect(path, InspectOptions(sample_rate=RATE, rpm=RPM), tmp_path / "c", NullReporter())
    options = InspectOptions(sample_rate=RATE, rpm=RPM, geometry="balls=9,ball=0.3126,pitch=1.537")
    summary, _ = run_inspect(path, options, tmp_path / "d", NullReporter())
    assert summary["rpm_how"] == "given (--rpm)" and summary["sample_rate_how"] == "given (--sample-rate)"
    assert summary["bearing_how"] == "given geometry" and summary["strongest"]["line"] == "BPFO"
    assert not any((tmp_path / name).exists() for name in "abc")  # failed runs leave no folder


def test_a_checkpoints_verdict_sits_beside_the_page(cwru_like, tmp_path):
    import torch

    from faultcli.models import create_model

    classes = ["normal", "inner", "outer"]
    kwargs = {"num_classes": 3, "window": 1024, "sample_rate": RATE, "n_bands": 32}
    model = create_model("band_linear", **kwargs)
    state = {
        "model": model.state_dict(),
        "model_name": "band_linear",
        "model_kwargs": kwargs,
        "classes": classes,
        "task": "vibration-classification",
        "config": {"data": {"step": 512, "channel": "DE"}},
        "data_info": {"window": 1024, "sample_rate": RATE, "norm_mean": 0.0, "norm_std": 2.0},
        "temperature": 1.0,
    }
    torch.save(state, tmp_path / "model.pt")
    summary, out = run_inspect(cwru_like, InspectOptions(model=tmp_path / "model.pt"), tmp_path / "v", NullReporter())
    verdict = summary["verdict"]
    assert verdict["classes"] == classes and verdict["predicted"] in classes
    assert sum(verdict["probabilities"]) == pytest.approx(1.0, abs=1e-4)
    assert verdict["windows"] == (2**16 - 1024) // 512 + 1 and verdict["step"] == 512
    assert (
        "## Model verdict" in (out / "report.md").read_text()
        and verdict["checkpoint"] in (out / "report.md").read_text()
    )


def _main(monkeypatch, capsys, cwd: Path, *args: str) -> tuple[int, str]:
    from faultcli.cli.app import main

    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["faultcli", "inspect", *args])
    with pytest.raises(SystemExit) as stop:
        main()
    return stop.value.code, capsys.readouterr().err


def test_command_prints_the_run_folder(monkeypatch, capsys, cwru_like, tmp_path):
    from faultcli.cli.app import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["faultcli", "inspect", str(cwru_like), "--bearing", "6205"])
    main_code = None
    try:
        main()
    except SystemExit as stop:
        main_code = stop.code
    assert main_code in (None, 0)
    printed = capsys.readouterr().out
    assert "strongest line" in printed and "run folder: runs/inspect/OR007_6_1-" in printed
    assert (tmp_path / "runs" / "inspect" / "latest" / "inspect.png").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bearing", "6306"], "unknown bearing '6306'; known: 6203"),
        (["--band", "5000:7000"], "reaches above Nyquist (6000 Hz"),
        (["--band", "high"], "--band 'high' is not LOW:HIGH"),
        (["--levels", "12"], "too few for a kurtogram of 12 levels"),
        (["--channel", "BA"], "has no BA channel"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(monkeypatch, capsys, cwru_like, tmp_path, args, message):
    code, err = _main(monkeypatch, capsys, tmp_path, str(cwru_like), *args)
    assert code == 2
    assert message in err.replace("\n", " ")
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 2  # one line (wrapped at most once)
    assert not (tmp_path / "runs" / "inspect").exists() or not any(
        p for p in (tmp_path / "runs" / "inspect").iterdir() if not p.is_symlink()
    )


def test_no_shaft_speed_is_exit_code_2(monkeypatch, capsys, tmp_path):
    folder = tmp_path / "12k"
    folder.mkdir()
    scipy.io.savemat(folder / "x.mat", {"X1_DE_time": _outer_race(2**14)[:, None]})
    code, err = _main(monkeypatch, capsys, tmp_path, str(folder / "x.mat"))
    assert code == 2 and "states no shaft speed; pass it with --rpm" in err


@pytest.mark.realdata
def test_real_inner_race_recording_shows_bpfi(shared_data, tmp_path):
    path = shared_data / "cwru" / "12k_drive_end" / "IR007_0.mat"
    summary, _ = run_inspect(path, InspectOptions(), tmp_path / "real", NullReporter())
    assert summary["strongest"]["line"] == "BPFI" and summary["rpm"] == 1797
