"""train.init: a finetune starts from another run's or file's weights; the head starts afresh when the
classes differ; the log and summary say what was loaded; another architecture is one line, no run left."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from faultcli.config import load_config
from faultcli.engine.checkpoints import load_checkpoint
from faultcli.errors import ConfigError
from faultcli.models import create_model
from faultcli.pretrain.init import init_model, is_head_key
from faultcli.progress import NullReporter
from faultcli.services.common import start_run
from faultcli.services.fit import fit

from .conftest import Lines


def _train(recipe, overrides, out):
    cfg = load_config(recipe, overrides)
    lines = Lines()
    with start_run("finetune", cfg, out=out) as run:
        summary = fit(cfg, run, lines)
    return summary, lines.lines


def test_head_keys_are_the_read_outs_of_every_vibration_model():
    model = create_model("multimodal_small", num_classes=3, window=1024, wide_bands=16)
    heads = sorted({k.rsplit(".", 1)[0].split(".")[0] for k in model.state_dict() if is_head_key(k)})
    assert heads == ["arcface", "head", "wide"]
    assert not is_head_key("features.0.0.weight") and not is_head_key("wide.standardize.mean")


def test_a_bare_file_with_another_class_count_loads_all_but_the_head(tmp_path):
    torch.manual_seed(0)
    source = create_model("wdcnn", num_classes=10, window=1024)
    torch.save(source.state_dict(), tmp_path / "w.pt")
    model = create_model("wdcnn", num_classes=3, window=1024)
    result = init_model(model, str(tmp_path / "w.pt"), ["a", "b", "c"])
    assert result.head == "started afresh (the source has another class count)"
    assert sorted(result.report.initialised) == ["arcface.weight", "head.1.bias", "head.1.weight"]
    assert torch.equal(model.features[0][0].weight, source.features[0][0].weight)
    same = create_model("wdcnn", num_classes=10, window=1024)
    assert init_model(same, str(tmp_path / "w.pt"), list("abcdefghij")).head.startswith("loaded (same shape")
    assert torch.equal(same.head[1].weight, source.head[1].weight)


def test_finetune_from_a_run_with_other_classes_logs_and_records_the_init(tmp_path, vib_recipe):
    recipe = vib_recipe()
    first, _ = _train(recipe, ["train.epochs=1"], tmp_path / "a")
    assert "init_source" not in first
    summary, lines = _train(
        recipe, ['data.classes=["IR", "OR"]', f"train.init={tmp_path / 'a'}", "train.epochs=1"], tmp_path / "b"
    )
    assert summary["init_source"] == str(tmp_path / "a")
    assert summary["init_loaded"] > 10 and summary["init_initialised"] == 3 and summary["init_skipped"] == 3
    assert summary["init_head"].startswith("started afresh (the source's classes ['B', 'IR', 'OR'] differ")
    assert json.loads((tmp_path / "b" / "summary.json").read_text())["init_loaded"] == summary["init_loaded"]
    line = next(x for x in lines if x.startswith("initial weights from"))
    assert f"loaded {summary['init_loaded']} tensors; 3 in the file unused" in line
    log = (tmp_path / "b" / "run.log").read_text()
    assert "3 newly initialised (arcface.weight, head.1.bias, head.1.weight)" in log
    assert load_checkpoint(tmp_path / "b" / "checkpoints" / "best.pt")["init_source"] == str(tmp_path / "a")


def test_weights_of_another_architecture_are_one_line_and_leave_no_run(tmp_path, vib_recipe):
    torch.save(create_model("wdcnn", num_classes=3, window=2048).state_dict(), tmp_path / "w2048.pt")
    cfg = load_config(vib_recipe(), [f"train.init={tmp_path / 'w2048.pt'}"])
    with pytest.raises(ConfigError, match="another architecture, 1 tensors differ in shape"):
        with start_run("finetune", cfg, out=tmp_path / "run") as run:
            fit(cfg, run, NullReporter())
    assert not (tmp_path / "run").exists()


def test_the_cli_init_option_sets_train_init_and_a_missing_file_exits_2(tmp_path, vib_recipe):
    missing = tmp_path / "no such [dir]" / "w.pt"
    proc = subprocess.run(
        [sys.executable, "-m", "faultcli", "finetune", "-r", str(vib_recipe()), "--init", str(missing)]
        + ["--out", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and f"weights file {missing} not found" in proc.stderr
    assert not (tmp_path / "run").exists()
    shown = subprocess.run(
        [sys.executable, "-m", "faultcli", "finetune", "-r", str(vib_recipe()), "--init", "runs/x", "--print-config"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert 'init = "runs/x"' in shown.stdout
