"""The engine interface for what comes next: step context, trainable parts owned by hooks (optimised,
averaged, saved, restored on resume), named validation loaders, parameter groups, the paired loader."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from faultcli.data.loader import BatchLoader
from faultcli.data.paired import PairedLoader
from faultcli.engine.callbacks import Checkpoint, Monitor
from faultcli.engine.checkpoints import load_checkpoint
from faultcli.engine.engine import Engine
from faultcli.engine.hooks import StepContext, TaskHooks, metric_names
from faultcli.engine.optim import parameter_groups
from faultcli.engine.schedules import Schedule
from faultcli.errors import ConfigError, DataError


class PartHooks(TaskHooks):
    """Regression through the model and a projection the hooks own; records every step context."""

    val_metrics = {"loss": "min"}

    def __init__(self) -> None:
        torch.manual_seed(5)
        self.proj = nn.Linear(4, 1)
        self.contexts: list[StepContext] = []

    def parts(self) -> dict[str, nn.Module]:
        return {"proj": self.proj}

    def training_step(self, model, batch, ctx):
        self.contexts.append(ctx)
        loss = nn.functional.mse_loss(self.proj(model(batch["x"])).squeeze(1), batch["y"])
        return loss, {}

    def validation_step(self, model, batch, name=""):
        return {"err": (self.proj(model(batch["x"])).squeeze(1) - batch["y"]).abs()}

    def validation_metrics(self, collected, name=""):
        return {"loss": float(collected["err"].mean())}


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5], np.float32)).astype(np.float32)
    return lambda rows: {"x": torch.from_numpy(x[rows]), "y": torch.from_numpy(y[rows])}


def _engine(folder, ema=None):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4))
    hooks = PartHooks()
    opt = torch.optim.AdamW(parameter_groups(model, hooks.parts(), 0.05, {}), lr=0.05)
    fetch = _data()
    train = BatchLoader(np.arange(48), fetch, 8, shuffle=True)
    val = {"": BatchLoader(np.arange(48, 64), fetch, 16), "other": BatchLoader(np.arange(0, 16), fetch, 16)}
    sched = Schedule(opt, "cosine", steps_per_epoch=len(train), epochs=4)
    callbacks = [Checkpoint(folder, Monitor("val_loss", "min"), {"config": {}})]
    engine = Engine(model, opt, sched, hooks, callbacks, device=torch.device("cpu"), seed=2, ema_decay=ema)
    return engine, train, val


def test_step_context_follows_training_progress(tmp_path):
    engine, train, val = _engine(tmp_path)
    engine.fit(train, val, epochs=2)
    ctx = engine.hooks.contexts
    assert [c.global_step for c in ctx] == list(range(12))
    assert [c.step for c in ctx] == list(range(6)) * 2 and [c.epoch for c in ctx] == [0] * 6 + [1] * 6
    assert ctx[0].progress == 0 and ctx[-1].progress == pytest.approx(11 / 12)
    assert {c.steps_per_epoch for c in ctx} == {6} and {c.epochs for c in ctx} == {2}


def test_hook_parts_are_trained_and_named_val_loaders_are_reported(tmp_path):
    engine, train, val = _engine(tmp_path)
    before = engine.hooks.proj.weight.detach().clone()
    history = engine.fit(train, val, epochs=4)
    assert not torch.equal(before, engine.hooks.proj.weight)  # the optimiser reached the part
    assert {"val_loss", "val_other_loss"} <= set(history[-1])
    assert history[-1]["val_loss"] < history[0]["val_loss"]
    state = load_checkpoint(tmp_path / "last.pt")
    assert set(state["parts"]) == {"proj.weight", "proj.bias"}  # under its own key; "model" is the network
    assert all(not k.startswith("proj") for k in state["model"])


@pytest.mark.parametrize("ema", [None, 0.9])
def test_parts_and_step_context_survive_resume(tmp_path, ema):
    full, train, val = _engine(tmp_path / "a", ema)
    reference = full.fit(train, val, epochs=4)
    first, train, val = _engine(tmp_path / "b", ema)
    first.fit(train, val, epochs=2)
    second, train, val = _engine(tmp_path / "b", ema)
    second.load_state_dict(load_checkpoint(tmp_path / "b" / "last.pt"))
    resumed = second.fit(train, val, epochs=4)
    drop = ("epoch_seconds",)
    assert [{k: v for k, v in m.items() if k not in drop} for m in resumed] == [
        {k: v for k, v in m.items() if k not in drop} for m in reference
    ]
    assert torch.equal(second.hooks.proj.weight, full.hooks.proj.weight)
    assert [c.global_step for c in second.hooks.contexts] == list(range(12, 24))


def test_declared_metric_names_follow_the_engine_naming():
    names = metric_names(PartHooks, ("", "target"))
    assert names["val_loss"] == "min" and names["val_target_loss"] == "min" and names["epoch"] == "max"


def test_parameter_groups_scale_freeze_and_check_prefixes():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    groups = parameter_groups(model, {}, 1e-3, {})
    assert len(groups) == 1 and len(groups[0]["params"]) == 4 and groups[0]["lr"] == 1e-3
    groups = parameter_groups(model, {"extra": nn.Linear(2, 1)}, 1e-3, {"0": 0.1, "1.bias": 0.0})
    assert sorted(g["lr"] for g in groups) == pytest.approx([1e-4, 1e-3, 1e-3])
    assert not model[1].bias.requires_grad and model[1].weight.requires_grad
    with pytest.raises(ConfigError, match="matches no parameter"):
        parameter_groups(model, {}, 1e-3, {"backbone": 0.1})


def test_paired_loader_cycles_the_target_and_reproduces_under_a_seed():
    fetch = _data()
    source = BatchLoader(np.arange(40), fetch, 8, shuffle=True)
    target = BatchLoader(np.arange(40, 56), fetch, 8, shuffle=True)
    paired = PairedLoader(source, target)
    torch.manual_seed(1)
    first = list(paired)
    assert len(first) == len(paired) == 5
    assert all(set(b) == {"source", "target"} for b in first)
    torch.manual_seed(1)
    again = list(paired)
    assert all(torch.equal(a["target"]["x"], b["target"]["x"]) for a, b in zip(first, again, strict=True))
    with pytest.raises(DataError, match="target"):
        PairedLoader(source, BatchLoader(np.arange(0), fetch, 8))
