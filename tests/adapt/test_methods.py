"""Each [adapt] method trains through finetune on tiny generated data: target windows without labels,
selection on source validation, the last epoch's test figures beside the chosen one's."""

from __future__ import annotations

import json

import pytest
import torch

from faultcli.config import load_config
from faultcli.engine.checkpoints import load_checkpoint
from faultcli.progress import NullReporter
from faultcli.services.common import start_run
from faultcli.services.fit import fit

from .conftest import scrambled_copy, write_recordings

TARGET_WINDOWS = 3 * 22  # three load-1 recordings of 12000 samples, windows of 1024 every 512


def _fit(recipe, overrides, out):
    cfg = load_config(recipe, overrides)
    with start_run("finetune", cfg, out=out) as run:
        return fit(cfg, run, NullReporter())


@pytest.mark.parametrize("method", ["adabn", "mmd", "coral", "dann"])
def test_each_method_trains_an_epoch_and_reports_the_target_and_last_epoch(tmp_path, adapt_recipe, method):
    summary = _fit(adapt_recipe(), [f"adapt.method={method}", "train.epochs=1"], tmp_path / "run")
    assert summary["adapt_method"] == method and summary["adapt_target_windows"] == TARGET_WINDOWS
    assert "load 1 (data.test_conditions)" in summary["adapt_target"]
    assert summary["chosen_epoch"] == summary["last_epoch"] == 1
    assert summary["last_test_accuracy"] == summary["test_accuracy"]
    metrics = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[0])
    best = load_checkpoint(tmp_path / "run" / "checkpoints" / "best.pt")
    last = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    bn = "features.0.1.running_mean"
    if method == "adabn":  # the chosen model's statistics are the target's; the trained ones stay in last.pt
        assert best["adabn_windows"] == TARGET_WINDOWS and not torch.equal(best["model"][bn], last["model"][bn])
        assert "train_align" not in metrics
    else:
        assert metrics["train_align"] >= 0 and torch.equal(best["model"][bn], last["model"][bn])
    if method == "dann":
        assert any(k.startswith("discriminator.") for k in best["parts"]) and 0 <= metrics["train_domain_acc"] <= 1


def test_the_last_epoch_is_evaluated_when_source_validation_chose_another(tmp_path, adapt_recipe):
    from faultcli.adapt.report import adapt_summary
    from faultcli.services.common import load_trained_model
    from faultcli.tasks import get_task

    cfg = load_config(adapt_recipe(), ["adapt.method=coral"])
    with start_run("finetune", cfg, out=tmp_path / "r") as run:
        summary = fit(cfg, run, NullReporter())
    history = [json.loads(line) for line in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert summary["last_epoch"] == 2 and summary["chosen_epoch"] == summary["best_epoch"]
    task = get_task(cfg.task)
    data = task.build_data(cfg, NullReporter())
    model = load_trained_model(load_checkpoint(tmp_path / "r" / "checkpoints" / "best.pt"), torch.device("cpu"))
    # as if source validation had chosen the first epoch: the last one gets a test evaluation of its own
    figures = adapt_summary(task, cfg, model, data, tmp_path / "r", "cpu", NullReporter(), history, 0, {})
    assert figures["chosen_epoch"] == 1 and figures["last_epoch"] == 2
    last = json.loads((tmp_path / "r" / "test-last-epoch" / "metrics.json").read_text())
    assert figures["last_test_accuracy"] == last["accuracy"]


@pytest.mark.parametrize("mode", ["test-conditions", "target-root"])
def test_scrambled_target_labels_give_the_identical_model(tmp_path, adapt_recipe, mode):
    clean = write_recordings(tmp_path / "clean")
    scrambled = scrambled_copy(clean, tmp_path / "scrambled")
    models = []
    for i, data in enumerate((clean, scrambled)):
        extra = ""
        if mode == "target-root":  # the target folder is read apart from the source's, here the same files
            extra = f'[adapt]\ntarget_root = "{data}"\ntarget_include = ["*_1.mat"]'
        recipe = adapt_recipe(data, extra, name=f"r{i}")
        summary = _fit(recipe, ["adapt.method=dann", "vibration.mixup_alpha=0.2"], tmp_path / f"run{i}")
        models.append(load_checkpoint(tmp_path / f"run{i}" / "checkpoints" / "best.pt"))
        assert summary["adapt_target_windows"] == TARGET_WINDOWS
    assert models[0]["model"].keys() == models[1]["model"].keys()
    assert all(torch.equal(models[0]["model"][k], models[1]["model"][k]) for k in models[0]["model"])
    assert all(torch.equal(models[0]["parts"][k], models[1]["parts"][k]) for k in models[0]["parts"])
