"""Two-stage schedule: the unfreeze rule, and the hooks freezing and releasing a backbone in the engine."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from faultcli.classification.freeze import ImageClassificationHooks, should_unfreeze
from faultcli.data.loader import BatchLoader
from faultcli.engine.callbacks import Checkpoint, Monitor
from faultcli.engine.checkpoints import load_checkpoint
from faultcli.engine.engine import Engine
from faultcli.engine.schedules import Schedule
from faultcli.losses import FocalLoss
from faultcli.models.base import Classifier

# --------------------------------------------------------------------------- the rule


def test_fixed_epoch_switches_after_that_many_frozen_epochs():
    assert not should_unfreeze([0.5], epoch=0, fixed_epoch=2, threshold=0.0, window=3)
    assert should_unfreeze([0.5, 0.6], epoch=1, fixed_epoch=2, threshold=0.0, window=3)


def test_no_rule_never_switches():
    assert not should_unfreeze([0.5] * 10, epoch=9, fixed_epoch=0, threshold=0.0, window=3)


def test_plateau_rule_needs_a_full_window_of_history():
    flat = [0.80, 0.80, 0.80]
    assert not should_unfreeze(flat, epoch=2, fixed_epoch=0, threshold=0.01, window=3)
    assert should_unfreeze(flat + [0.80], epoch=3, fixed_epoch=0, threshold=0.01, window=3)


def test_plateau_rule_compares_best_of_window_with_best_before():
    rising = [0.50, 0.60, 0.70, 0.80]
    assert not should_unfreeze(rising, epoch=3, fixed_epoch=0, threshold=0.01, window=2)  # gain 0.20
    slow = [0.80, 0.805, 0.79, 0.808]
    assert should_unfreeze(slow, epoch=3, fixed_epoch=0, threshold=0.01, window=2)  # gain 0.003 < 0.01
    # a single noisy dip does not count as stalling when the window still holds a real gain
    assert not should_unfreeze([0.70, 0.80, 0.60], epoch=2, fixed_epoch=0, threshold=0.05, window=2)


def test_plateau_rule_for_falling_metrics():
    assert should_unfreeze([1.0, 0.995, 0.994], epoch=2, fixed_epoch=0, threshold=0.01, window=2, mode="min")
    assert not should_unfreeze([1.0, 0.8, 0.7], epoch=2, fixed_epoch=0, threshold=0.01, window=2, mode="min")


def test_whichever_rule_comes_first():
    assert should_unfreeze([0.9, 0.9], epoch=1, fixed_epoch=10, threshold=0.01, window=1)  # plateau first
    assert should_unfreeze([0.1, 0.5], epoch=1, fixed_epoch=2, threshold=0.01, window=1)  # fixed first


# --------------------------------------------------------------------------- hooks in the engine


class TinyImageNet(Classifier):
    """A model with the image classifier's surface: ``backbone`` (with BatchNorm), edge input, head."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()
        )
        self.edge = nn.Linear(1, 4)
        self.head = nn.Linear(8, 3)
        self.num_features = 8

    def forward_features(self, x, edge=None):
        return torch.cat([self.backbone(x), self.edge(edge.mean(dim=(1, 2, 3))[:, None])], dim=1)

    def forward_head(self, f):
        return self.head(f)


def toy_images(n: int = 48):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, n)
    x = (rng.normal(size=(n, 1, 8, 8)) + y[:, None, None, None]).astype(np.float32)
    edge = (rng.random((n, 1, 8, 8)) > 0.8).astype(np.float32)
    return x, edge, y


def make_engine(tmp_path, **hook_args):
    torch.manual_seed(0)
    x, edge, y = toy_images()

    def fetch(rows):
        return {
            "x": torch.from_numpy(x[rows]),
            "y": torch.from_numpy(y[rows]),
            "extra": {"edge": torch.from_numpy(edge[rows])},
        }

    model = TinyImageNet()
    opt = torch.optim.AdamW(model.parameters(), lr=0.05)
    train, val = BatchLoader(np.arange(32), fetch, 8, shuffle=True), BatchLoader(np.arange(32, 48), fetch, 16)
    hooks = ImageClassificationHooks(FocalLoss(gamma=0.0), 3, metric="val_acc", mode="max", **hook_args)
    callbacks = [Checkpoint(tmp_path / "ckpt", Monitor("val_acc", "max"), {"config": {}})]
    engine = Engine(model, opt, Schedule(opt, "constant"), hooks, callbacks, device=torch.device("cpu"))
    return engine, train, val


def _backbone_state(model):
    return {k: v.clone() for k, v in model.backbone.state_dict().items()}


def test_frozen_backbone_does_not_move_then_finetunes(tmp_path):
    engine, train, val = make_engine(tmp_path, freeze_backbone_epochs=2)
    before = _backbone_state(engine.model)
    head_before = engine.model.head.weight.clone()
    engine.fit(train, val, epochs=2)
    after_stage1 = _backbone_state(engine.model)
    for key, value in before.items():  # weights and BatchNorm running statistics alike
        assert torch.equal(after_stage1[key], value), key
    assert not torch.equal(engine.model.head.weight, head_before)  # the head trained meanwhile
    assert [m["backbone_frozen"] for m in engine.history] == [1.0, 1.0]
    assert engine.hooks.unfrozen_at == 2 and not engine.hooks.frozen
    engine.fit(train, val, epochs=3)
    assert all(p.requires_grad for p in engine.model.backbone.parameters())
    assert not torch.equal(engine.model.backbone[0].weight, after_stage1["0.weight"])
    assert engine.history[-1]["backbone_frozen"] == 0.0


def test_no_freeze_options_train_everything_from_the_start(tmp_path):
    engine, train, val = make_engine(tmp_path)
    before = engine.model.backbone[0].weight.clone()
    engine.fit(train, val, epochs=1)
    assert not engine.hooks.frozen and engine.history[0]["backbone_frozen"] == 0.0
    assert not torch.equal(engine.model.backbone[0].weight, before)


def test_plateau_switch_in_the_engine(tmp_path):
    # a threshold no gain can reach: unfreezes as soon as the window is full (window 1 → after epoch 2)
    engine, train, val = make_engine(tmp_path, unfreeze_threshold=2.0, unfreeze_window=1)
    engine.fit(train, val, epochs=3)
    assert [m["backbone_frozen"] for m in engine.history] == [1.0, 1.0, 0.0]
    assert engine.hooks.unfrozen_at == 2


def test_stage_is_saved_in_checkpoints_and_restored(tmp_path):
    engine, train, val = make_engine(tmp_path, freeze_backbone_epochs=1, unfreeze_threshold=0.0)
    engine.fit(train, val, epochs=1)
    state = load_checkpoint(tmp_path / "ckpt" / "last.pt")
    assert state["hooks"]["frozen"] is False and state["hooks"]["unfrozen_at"] == 1
    assert state["hooks"]["frozen_history"] == [pytest.approx(engine.history[0]["val_acc"])]
    resumed, _, _ = make_engine(tmp_path / "again", freeze_backbone_epochs=1)
    assert resumed.hooks.frozen
    resumed.load_state_dict(state)
    assert not resumed.hooks.frozen and resumed.epoch == 1
    resumed.fit(train, val, epochs=2)
    assert resumed.history[-1]["backbone_frozen"] == 0.0
