"""The pretraining objectives wired through the hooks and the one engine: training lowers the loss on a
tiny set, and the projection head or decoder is a part the engine trains and saves."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from faultcli.data.loader import BatchLoader
from faultcli.engine.engine import Engine
from faultcli.engine.hooks import StepContext
from faultcli.engine.optim import parameter_groups
from faultcli.engine.schedules import Schedule
from faultcli.models import create_model
from faultcli.models.heads import ProjectionHead
from faultcli.pretrain.decoder import WindowDecoder
from faultcli.pretrain.hooks import PretrainHooks
from faultcli.pretrain.objectives import DEFAULT_VIEW_STAGE, view_augment


def _windows():
    """24 windows of three tones (8 each), with noise."""
    rng = np.random.default_rng(0)
    t = np.arange(1024) / 1024
    y = np.repeat(np.arange(3), 8)
    x = np.stack([np.sin(2 * np.pi * (40 + 90 * k) * t + rng.uniform(0, 6)) for k in y])
    x = (x + 0.2 * rng.normal(size=x.shape)).astype(np.float32)[:, None]

    def fetch(rows):
        return {"x": torch.from_numpy(x[rows]), "y": torch.from_numpy(y[rows]), "extra": {}}

    return fetch, len(y)


def _loss(hooks, model, batch, seed=123):
    """The objective on one batch with fixed random draws (views, masks)."""
    hooks.generator.manual_seed(seed)
    model.eval()  # fixed BatchNorm statistics: the comparison sees only the weights change
    hooks.head.eval()
    with torch.no_grad():
        loss, _ = hooks.training_step(model, batch, StepContext(0, 0, 0, 1, 1))
    return float(loss)


@pytest.mark.parametrize("method", ["ntxent", "supcon", "masked"])
def test_pretraining_lowers_its_loss_on_a_tiny_set(method):
    torch.manual_seed(0)
    fetch, n = _windows()
    model = create_model("wdcnn", num_classes=3, window=1024)
    head = WindowDecoder(100, 1024) if method == "masked" else ProjectionHead(100, out_features=32)
    hooks = PretrainHooks(method, head, augment=view_augment([]), temperature=0.2, mask_span=32)
    batch = fetch(np.arange(n))
    before = _loss(hooks, model, batch)
    groups = parameter_groups(model, hooks.parts(), 3e-3, {})
    optimizer = torch.optim.AdamW(groups, lr=3e-3)
    engine = Engine(model, optimizer, Schedule(optimizer, "constant"), hooks, device=torch.device("cpu"))
    head_before = [p.detach().clone() for p in head.parameters()]
    history = engine.fit(BatchLoader(np.arange(n), fetch, 12, shuffle=True), None, 15)
    after = _loss(hooks, model, batch)
    assert after < 0.9 * before, (method, before, after)
    assert all(np.isfinite(h["train_loss"]) for h in history)
    assert any(not torch.equal(a, b) for a, b in zip(head_before, head.parameters(), strict=True))
    part = "decoder" if method == "masked" else "projection"
    assert any(k.startswith(f"{part}.") for k in engine.state_dict()["parts"])


def test_views_use_the_recipes_stage_and_a_strong_default_before_or_without_one():
    x = torch.randn(4, 1, 1024)
    gen = torch.Generator().manual_seed(0)
    default, _ = view_augment([])(x, {}, 0, gen)
    assert not torch.equal(default, x) and DEFAULT_VIEW_STAGE["prob"] > 0.5
    quiet = [{"start_epoch": 2, "noise_std": 0.0, "prob": 0.0}]
    assert not torch.equal(view_augment(quiet)(x, {}, 0, gen)[0], x)  # before its first stage: the default
    assert torch.equal(view_augment(quiet)(x, {}, 2, gen)[0], x)  # the recipe's (here: nothing) from epoch 2
