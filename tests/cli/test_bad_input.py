"""Bad input ends in one intact `error:` line and exit code 2, with nothing left behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from faultcli.config import load_config
from faultcli.errors import ConfigError, UserError
from faultcli.runs import new_run_dir

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "override, message",
    [
        ("train.lr=nan", "not a finite number"),
        ("vibration.dropout=nan", "not a finite number"),
        ("train.lr=inf", "not a finite number"),
        ("data.fractions=[nan, 0.5, 0.5]", "not a finite number"),
        ("seed=-1", "out of range"),
        ("seed=99999999999", "out of range"),
    ],
)
def test_numbers_that_no_range_admits_are_refused(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(ROOT / "recipes" / "small.toml", [override])


def test_a_recipe_that_is_not_utf8_is_one_line(tmp_path):
    recipe = tmp_path / "latin1.toml"
    recipe.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(recipe, [])


@pytest.mark.parametrize("name", ["../../x", "/tmp/x", "a/b", "..", "x" * 300])
def test_run_names_never_leave_the_runs_folder(tmp_path, name):
    with pytest.raises(UserError, match="plain folder name"):
        new_run_dir("finetune", name, root=tmp_path / "runs")


def test_brackets_in_a_message_print_intact_and_do_not_crash_the_printer(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "faultcli",
            "finetune",
            "--recipe",
            str(tmp_path / "[/x] missing [row0].toml"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 2 and not out.exists()
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "[/x] missing [row0].toml" in lines[0]
