"""The sampling-rate rule: file, pattern on the full path, stated, assumed, else an error; the shaft-line check;
and the rule as prepare_vibration applies it when evaluating a folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io

from faultcli.config.schema import DataConfig
from faultcli.data.rates import resample, resolve_rate
from faultcli.data.shaft_lines import check_shaft_line
from faultcli.data.vibration import prepare_vibration
from faultcli.errors import DataError

CWRU = Path(__file__).resolve().parents[3] / "shared" / "data" / "cwru"


def shaft_recording(rate: int = 12000, seconds: float = 10.0, rpm: float = 1750.0, seed: int = 0) -> np.ndarray:
    """Noise with the first ten shaft harmonics, as a rotating machine's accelerometer shows them."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    signal = 0.5 * rng.standard_normal(t.size)
    for k in range(1, 11):
        signal += (1.0 / k) * np.sin(2 * np.pi * k * rpm / 60 * t + rng.uniform(0, 2 * np.pi))
    return signal


def test_rate_from_the_file_wins_then_pattern_then_explicit_then_assumed():
    patterns = {"48k": 48000}
    assert resolve_rate("/d/48k/a.mat", file_rate=24000.0, patterns=patterns, explicit=12000) == (24000, "file")
    assert resolve_rate("/d/48k/a.mat", patterns=patterns, explicit=12000) == (48000, "pattern")
    assert resolve_rate("/d/other/a.mat", patterns=patterns, explicit=12000, assumed=8000) == (12000, "explicit")
    assert resolve_rate("/d/other/a.mat", patterns=patterns, explicit=0, assumed=8000) == (8000, "assumed")


def test_patterns_match_the_full_path_not_the_part_under_the_root(tmp_path):
    folder = tmp_path / "cwru_12k_drive_end"
    folder.mkdir()
    # relative to its folder the file is "B007_0.mat": only the full path says 12k
    assert resolve_rate(folder / "B007_0.mat", patterns={"12k": 12000}) == (12000, "pattern")


def test_no_rate_is_an_error_naming_the_file_and_both_ways_to_state_it():
    with pytest.raises(DataError) as err:
        resolve_rate("/d/new/B007_0.mat", patterns={"12k": 12000})
    message = str(err.value)
    assert "/d/new/B007_0.mat" in message and "data.source_rate" in message and "data.rate_patterns" in message
    assert "\n" not in message


def test_shaft_line_check_is_silent_at_the_true_rate():
    assert check_shaft_line(shaft_recording(12000), 12000, 1750.0) is None


def test_shaft_line_check_names_the_rate_of_a_resampled_recording():
    upsampled = resample(shaft_recording(12000), 12000, 48000)
    warning = check_shaft_line(upsampled, 12000, 1750.0)
    assert warning is not None and "but fit 48000 Hz" in warning
    downsampled_claimed_high = check_shaft_line(shaft_recording(12000, seconds=20), 24000, 1750.0)
    assert downsampled_claimed_high is not None and "12000" in downsampled_claimed_high.split("but fit")[1]


def test_shaft_line_check_is_silent_without_rpm_or_lines():
    assert check_shaft_line(shaft_recording(), 12000, None) is None
    noise = np.random.default_rng(1).standard_normal(120000)
    assert check_shaft_line(noise, 12000, 1750.0) is None


def _mat_folder(root: Path, rate: int, names: list[str]) -> Path:
    root.mkdir(parents=True)
    for i, name in enumerate(names):
        signal = shaft_recording(rate, seconds=10.0, seed=i)
        scipy.io.savemat(root / name, {"X100_DE_time": signal[:, None], "X100RPM": np.array([[1750.0]])})
    return root


def _cwru_like(root: Path, **kw) -> DataConfig:
    base = {
        "root": str(root),
        "format": "mat",
        "label_from": "regex",
        "label_regex": r"^(?P<label>B\d{3}|IR\d{3})",
        "window": 1024,
        "step": 1024,
        "fractions": [0.5, 0.25, 0.25],
        "rate_patterns": {"12k": 12000},
        "cache_dir": str(root.parent / "cache"),
    }
    return DataConfig(**{**base, **kw})


def test_evaluating_a_folder_whose_rate_no_rule_states_stops(tmp_path):
    root = _mat_folder(tmp_path / "new48", 48000, ["B007_0.mat", "IR007_0.mat"])
    with pytest.raises(DataError, match="sampling rate unknown"):
        prepare_vibration(_cwru_like(root, allow_missing_classes=True))
    ds = prepare_vibration(_cwru_like(root, allow_missing_classes=True, source_rate=48000))
    assert set(ds.recordings["source_rate"]) == {48000.0}
    assert ds.manifest["rate_sources"] == {"explicit": 2}


def test_training_takes_an_unstated_rate_as_the_dataset_rate_and_says_so(tmp_path):
    root = _mat_folder(tmp_path / "plain", 12000, ["B007_0.mat", "IR007_0.mat"])
    ds = prepare_vibration(_cwru_like(root))
    assert ds.manifest["rate_sources"] == {"assumed": 2}
    assert ds.manifest["rate_warnings"] == []


def test_a_shaft_line_that_disagrees_is_a_warning_in_the_manifest(tmp_path):
    root = _mat_folder(tmp_path / "data_12k", 48000, ["B007_0.mat", "IR007_0.mat"])  # says 12k, holds 48 kHz
    ds = prepare_vibration(_cwru_like(root))
    assert ds.manifest["rate_sources"] == {"pattern": 2}
    assert len(ds.manifest["rate_warnings"]) == 2 and "fit 48000 Hz" in ds.manifest["rate_warnings"][0]


def test_evaluating_lists_skipped_files_with_their_reason(tmp_path):
    root = _mat_folder(tmp_path / "eval_12k", 12000, ["B007_0.mat", "IR007_0.mat", "B014_0.mat"])
    (root / "IR021_0.mat").write_bytes(b"not a mat file")
    short = shaft_recording(12000, seconds=0.05)
    scipy.io.savemat(root / "B021_0.mat", {"X1_DE_time": short[:, None]})
    ds = prepare_vibration(_cwru_like(root, classes=["B007", "IR007", "B021", "IR021"], allow_missing_classes=True))
    reasons = {item["file"]: item["reason"] for item in ds.manifest["skipped"]}
    assert set(reasons) == {"B014_0.mat", "IR021_0.mat", "B021_0.mat"}
    assert "not one of the classes" in reasons["B014_0.mat"]
    assert reasons["IR021_0.mat"].startswith("unreadable")
    assert "fewer than data.window" in reasons["B021_0.mat"]
    assert sorted(ds.recordings["file"]) == ["B007_0.mat", "IR007_0.mat"]


@pytest.mark.realdata
@pytest.mark.skipif(not CWRU.is_dir(), reason="CWRU data not present")
def test_a_cwru_recording_resampled_to_48k_and_read_as_12k_is_caught():
    from faultcli.data.readers.mat import read_mat

    raw = read_mat(CWRU / "12k_drive_end" / "IR007_1.mat")[0]
    assert check_shaft_line(raw.signal, 12000, raw.rpm) is None
    warning = check_shaft_line(resample(raw.signal, 12000, 48000), 12000, raw.rpm)
    assert warning is not None and "fit 48000 Hz" in warning
    normal = read_mat(CWRU / "normal" / "Normal_0.mat")[0]  # the 48 kHz baseline
    assert "fit 48000 Hz" in (check_shaft_line(normal.signal, 12000, normal.rpm) or "")
