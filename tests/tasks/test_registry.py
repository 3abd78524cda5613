"""The task registry, recipe checks before any compute, and `faultcli --help` without torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from faultcli.config import load_config
from faultcli.errors import ConfigError, DataError
from faultcli.services.fit import check_recipe
from faultcli.tasks import get_task, task_names

ROOT = Path(__file__).resolve().parents[2]


def test_every_task_is_registered_and_an_unknown_one_lists_them():
    assert task_names() == ["clip", "image-classification", "segmentation", "vibration-classification"]
    with pytest.raises(ConfigError, match="segmentation, vibration-classification"):
        get_task("segmentaton")
    with pytest.raises(ConfigError, match="Did you mean segmentation"):
        load_config(None, ["task=segmentaton"])


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["train.early_stop_metric=val_f1"], "val_macro_f1"),
        (["train.early_stop_metric=val_loss"], "early_stop_mode = 'min'"),
        (["train.tie_break_metric=val_dice"], "tie_break_metric"),
        (["model.name=wdcnn", 'vibration.branches=["fft"]'], "vibration.branches is not a setting of model 'wdcnn'"),
        (["model.name=band_linear", "vibration.wide_bands=8"], "vibration.wide_bands"),
        (["train.loss=bce_dice"], "not a classification loss"),
    ],
)
def test_recipe_settings_that_would_be_ignored_or_fail_late_are_refused(overrides, message):
    cfg = load_config(ROOT / "recipes" / "small.toml", overrides)
    with pytest.raises(ConfigError, match=message):
        check_recipe(cfg)


def test_every_shipped_training_recipe_passes_the_checks():
    data_only = {"neu.toml", "xsdd.toml", "sd-saliency.toml"}  # prep recipes: no training section
    bundled = (ROOT.parent / "shared" / "data").is_dir()  # recipes name it relative to the repository root
    for recipe in sorted((ROOT / "recipes").glob("*.toml")):
        if recipe.name not in data_only:
            try:
                check_recipe(load_config(recipe, []))
            except DataError:
                if bundled:  # without the bundled data, a check that reads a folder cannot pass
                    raise


def test_bad_selection_metric_exits_2_before_a_run_folder_exists(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "faultcli",
            "finetune",
            "--recipe",
            str(ROOT / "recipes" / "small.toml"),
            "--set",
            "train.early_stop_metric=val_f1",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "val_macro_f1" in proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()


def test_help_imports_no_torch():
    code = (
        "import sys\n"
        "from faultcli.cli import app\n"
        "app._register()\n"
        "try:\n    app.app(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('torch' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip().splitlines()[-1] == "False"
