"""`faultcli runs table | show`: one table of many run folders, and one run's figures and files."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

from faultcli.errors import UserError
from faultcli.services import runs as service


def in_process(cwd: Path, monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """``faultcli.cli.app.main`` in this process, with its error mapping (exit code 2 for bad input)."""
    from faultcli.cli.app import main

    monkeypatch.chdir(cwd)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(sys, "argv", ["faultcli", *args])
    with pytest.raises(SystemExit) as stop:
        main()
    captured = capsys.readouterr()
    return stop.value.code or 0, captured.out, captured.err


def make_run(folder: Path, branches: str, acc: float | None, lr: float = 1e-3, seconds: float = 12.5) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text(
        f'task = "vibration-classification"\nname = "abl"\n[model]\nname = "multimodal_small"\n'
        f"[vibration]\nbranches = {branches}\n"
        f"[train]\nlr = {lr}\nepochs = 10\n[[augment]]\nnoise_std = 0.1\n[[augment]]\nnoise_std = {lr * 100}\n"
    )
    if acc is not None:
        summary = {"test_accuracy": acc, "test_macro_f1": acc / 2, "best_epoch": 3, "params": 10}
        summary.update({"train_seconds": seconds, "per_class": {"a": {"recall": 1.0}}})
        (folder / "summary.json").write_text(json.dumps(summary))
        (folder / "test").mkdir()
        (folder / "test" / "confusion_matrix.png").write_bytes(b"png")
        (folder / "test" / "report.md").write_text("# report\n")
        (folder / "metrics.jsonl").write_text('{"epoch": 0}\n{"epoch": 1}\n')
    return folder


@pytest.fixture
def ablation(tmp_path) -> Path:
    out = tmp_path / "ablation"
    make_run(out / "branches-fft", '["fft"]', 0.5)
    make_run(out / "branches-time", '["time"]', 0.25, lr=2e-3)
    make_run(out / "crashed", '["tf"]', None)  # no summary.json: left out, and said so
    (out / "latest").symlink_to("branches-fft")  # a link to a run is not a second run
    return tmp_path


def test_table_prints_figures_differing_settings_and_train_seconds(ablation, monkeypatch, capsys):
    code, out, err = in_process(ablation, monkeypatch, capsys, "runs", "table", "ablation")
    assert code == 0, err
    lines = out.splitlines()
    header = lines[0]
    assert header.startswith("| run | test_accuracy | test_macro_f1 | best_epoch | params | train_seconds |")
    # only the settings that differ between the runs, as --set spells them
    assert "vibration.branches" in header and "train.lr" in header and "augment.1.noise_std" in header
    assert "train.epochs" not in header and "augment.0.noise_std" not in header
    assert lines[2] == '| branches-fft | 0.5000 | 0.2500 | 3 | 10 | 12.5000 | 0.1 | 0.001 | ["fft"] |'
    assert lines[3].startswith("| branches-time | 0.2500 |")
    assert sum(line.startswith("| branches-") for line in lines) == 2
    assert "left out (no summary.json, unfinished or failed):" in out and "crashed" in out


def test_table_writes_json_csv_and_markdown(ablation, monkeypatch, capsys):
    args = ["runs", "table", "ablation", "--json", "t.json", "--csv", "t.csv", "--md", "t.md"]
    code, out, err = in_process(ablation, monkeypatch, capsys, *args)
    assert code == 0, err
    data = json.loads((ablation / "t.json").read_text())
    assert data["differing"] == ["augment.1.noise_std", "train.lr", "vibration.branches"]
    first = data["runs"][0]
    assert first["run"] == "branches-fft" and first["summary"]["per_class"]["a"]["recall"] == 1.0
    assert first["settings"]["vibration.branches"] == ["fft"]
    rows = list(csv.DictReader((ablation / "t.csv").open()))
    assert [r["run"] for r in rows] == ["branches-fft", "branches-time"]
    assert rows[1]["train.lr"] == "0.002" and rows[1]["train_seconds"] == "12.5" and "per_class" not in rows[1]
    assert (ablation / "t.md").read_text().splitlines()[0] == out.splitlines()[0]
    assert "wrote t.json" in out


def test_several_folders_label_runs_by_their_folder(ablation, monkeypatch, capsys):
    make_run(ablation / "other" / "seed1", '["fft"]', 0.75)
    code, out, err = in_process(ablation, monkeypatch, capsys, "runs", "table", "ablation", "other")
    assert code == 0, err
    assert "| ablation/branches-fft |" in out and "| other/seed1 |" in out


def test_a_run_folder_itself_is_a_table_of_one(ablation):
    table = service.collect([ablation / "ablation" / "latest"])
    assert [r.label for r in table.runs] == ["branches-fft"] and table.differing == []


@pytest.mark.parametrize(
    ("folder", "message"),
    [("missing", "missing is not a folder"), ("empty", "no finished run (a folder with summary.json) under empty")],
)
def test_table_bad_folder_exits_2_with_one_line(ablation, monkeypatch, capsys, folder, message):
    (ablation / "empty").mkdir()
    code, out, err = in_process(ablation, monkeypatch, capsys, "runs", "table", folder)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in err + out


def test_broken_summary_is_a_user_error(ablation):
    (ablation / "ablation" / "branches-fft" / "summary.json").write_text("{half")
    with pytest.raises(UserError, match="branches-fft/summary.json is not readable JSON"):
        service.collect([ablation / "ablation"])


def test_show_prints_figures_recipe_and_where_the_plots_are(ablation, monkeypatch, capsys):
    code, out, err = in_process(ablation, monkeypatch, capsys, "runs", "show", "ablation/latest")
    assert code == 0, err
    assert "test_accuracy" in out and "0.5" in out and "per_class" not in out
    assert "model.name: multimodal_small" in out and "task: vibration-classification" in out
    assert "plot: ablation/latest/test/confusion_matrix.png" in out
    assert "report: ablation/latest/test/report.md" in out


def test_show_an_unfinished_run_says_so(ablation, monkeypatch, capsys):
    code, out, err = in_process(ablation, monkeypatch, capsys, "runs", "show", "ablation/crashed")
    assert code == 0, err
    assert "no summary.json: unfinished or failed" in out


def test_show_a_folder_that_is_not_a_run_exits_2(ablation, monkeypatch, capsys):
    code, _, err = in_process(ablation, monkeypatch, capsys, "runs", "show", "ablation")
    assert code == 2 and "ablation is not a run folder" in err
