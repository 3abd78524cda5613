"""The user-level scripts in scripts/: the run collector behind the ablation table."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_collect_runs_tabulates_every_run_folder(tmp_path):
    for name, acc in (("branches-fft", 0.5), ("branches-time", 0.25)):
        (tmp_path / name).mkdir()
        summary = {"test_accuracy": acc, "test_macro_f1": acc / 2, "best_epoch": 3, "params": 10}
        (tmp_path / name / "summary.json").write_text(json.dumps(summary))
    (tmp_path / "unfinished").mkdir()  # a run that crashed before its summary: left out, not an error
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "collect_runs.py"), str(tmp_path), "--json", str(tmp_path / "t.json")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert out[0].startswith("| run | test_accuracy")
    assert out[2] == "| branches-fft | 0.5000 | 0.2500 | 3 |  | 10 |"
    assert out[3].startswith("| branches-time | 0.2500 |")
    assert len(out) == 4
    assert json.loads((tmp_path / "t.json").read_text())["branches-time"]["test_accuracy"] == 0.25
