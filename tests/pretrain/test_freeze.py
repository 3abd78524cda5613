"""Linear probe then finetune: the encoder is frozen for the first epochs, then trains at its own
parameter group's lower rate; a parameter train.lr_scale freezes stays frozen."""

from __future__ import annotations

import numpy as np
import torch

from faultcli.classification.hooks import ClassificationHooks
from faultcli.data.loader import BatchLoader
from faultcli.engine.engine import Engine
from faultcli.engine.optim import parameter_groups
from faultcli.engine.schedules import Schedule
from faultcli.models import create_model
from faultcli.pretrain.freeze import EncoderFreeze, encoder_parameters


def _loader():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 1, 1024)).astype(np.float32)
    y = np.arange(32) % 3

    def fetch(rows):
        return {"x": torch.from_numpy(x[rows]), "y": torch.from_numpy(y[rows]), "extra": {}}

    return BatchLoader(np.arange(32), fetch, 8, shuffle=True)


def _snapshot(params):
    return [p.detach().clone() for p in params]


def _changed(before, params):
    return [not torch.equal(a, b) for a, b in zip(before, params, strict=True)]


def test_encoder_frozen_for_one_epoch_then_trains_at_its_scaled_rate():
    torch.manual_seed(0)
    model = create_model("wdcnn", num_classes=3, window=1024)
    hooks = EncoderFreeze(ClassificationHooks(torch.nn.CrossEntropyLoss(), 3), epochs=1)
    # the first conv frozen for good by lr_scale 0; the rest of the encoder at a tenth of the rate
    groups = parameter_groups(model, hooks.parts(), 1e-2, {"features": 0.1, "features.0.0": 0.0})
    assert sorted(g["lr"] for g in groups) == [1e-3, 1e-2]
    optimizer = torch.optim.AdamW(groups, lr=1e-2)
    engine = Engine(model, optimizer, Schedule(optimizer, "constant"), hooks, device=torch.device("cpu"))
    encoder = encoder_parameters(model)
    head = list(model.head.parameters())
    stats = model.features[1][1].running_mean.clone()
    before_enc, before_head = _snapshot(encoder), _snapshot(head)

    engine.fit(_loader(), None, 1)
    assert not any(_changed(before_enc, encoder)), "the encoder moved while frozen"
    assert all(_changed(before_head, head))
    assert torch.equal(model.features[1][1].running_mean, stats), "frozen BatchNorm statistics drifted"

    engine.fit(_loader(), None, 2)
    names = [n for n, p in model.named_parameters() if any(p is q for q in encoder)]
    moved = dict(zip(names, _changed(before_enc, encoder), strict=True))
    assert not moved["features.0.0.weight"] and not model.features[0][0].weight.requires_grad
    assert moved["features.1.0.weight"] and moved["features.6.weight"]
