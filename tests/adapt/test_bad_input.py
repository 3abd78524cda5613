"""[adapt] input that cannot work is one line (exit code 2 from the CLI) and leaves no run folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from faultcli.config import load_config
from faultcli.errors import ConfigError, DataError
from faultcli.progress import NullReporter
from faultcli.services.common import start_run
from faultcli.services.fit import check_recipe, fit

from .conftest import write_recordings

ROOT = Path(__file__).resolve().parents[2]


def _fails(recipe, overrides, out, error, match):
    cfg = load_config(recipe, overrides)
    with pytest.raises(error, match=match) as caught:
        check_recipe(cfg)
        with start_run("finetune", cfg, out=out) as run:
            fit(cfg, run, NullReporter())
    assert "\n" not in str(caught.value) and not out.exists()


def test_recipes_that_cannot_adapt_are_refused_before_any_data(tmp_path, adapt_recipe):
    recipe = adapt_recipe()
    _fails(recipe, ["adapt.method=mmd", "data.split=recording-time"], tmp_path / "a", ConfigError, "needs target")
    _fails(recipe, ["adapt.method=mmd", 'adapt.target_include=["*.mat"]'], tmp_path / "b", ConfigError, "target_root")
    with pytest.raises(
        ConfigError, match=r"recipe section \[adapt\] holds settings of task 'vibration-classification'"
    ):
        load_config(ROOT / "recipes" / "neu.toml", ["adapt.method=adabn"])


def test_bad_target_folders_are_one_line(tmp_path, adapt_recipe):
    recipe = adapt_recipe()
    missing, empty, junk = tmp_path / "missing", tmp_path / "empty", tmp_path / "junk"
    empty.mkdir()
    junk.mkdir()
    (junk / "a.mat").write_bytes(b"not a mat file")
    target = write_recordings(tmp_path / "target", loads=(2,))
    cases = [
        (missing, [], "is not a folder"),
        (empty, [], "holds no readable files"),
        (junk, [], "no usable recordings"),
        (target, ["data.source_rate=0"], r"sampling rate unknown.*--set adapt.source_rate=HZ"),
    ]
    for i, (folder, extra, match) in enumerate(cases):
        overrides = ["adapt.method=coral", f"adapt.target_root={folder}", *extra]
        _fails(recipe, overrides, tmp_path / f"run{i}", DataError, match)


def test_the_cli_prints_one_error_line_and_exits_2(tmp_path, adapt_recipe):
    proc = subprocess.run(
        [sys.executable, "-m", "faultcli", "finetune", "-r", str(adapt_recipe()), "--out", str(tmp_path / "run")]
        + ["--set", "adapt.method=dann", "--set", f"adapt.target_root={tmp_path / 'nowhere'}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "adapt.target_root" in proc.stderr and not (tmp_path / "run").exists()


@pytest.mark.parametrize("model", ["band_linear", "envelope_linear"])
def test_alignment_on_features_with_no_trainable_weight_is_refused(tmp_path, adapt_recipe, model):
    """The linear baselines compute their features by fixed transforms: MMD / CORAL / DANN would train nothing."""
    recipe = adapt_recipe()
    _fails(recipe, ["adapt.method=dann", f"model.name={model}"], tmp_path / "run", ConfigError, "nothing to align")


def test_adabn_on_a_model_without_batchnorm_is_refused(adapt_recipe):
    import torch

    from faultcli.adapt.target import check_model_adapts

    class NoNorm(torch.nn.Module):
        def forward_features(self, x):
            return x.mean(dim=-1)

    cfg = load_config(adapt_recipe(), ["adapt.method=adabn"])
    with pytest.raises(ConfigError, match="has none"):
        check_model_adapts(NoNorm(), cfg, "no_norm")
    check_model_adapts(NoNorm(), load_config(adapt_recipe(), ["adapt.method=none"]), "no_norm")
