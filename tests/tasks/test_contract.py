"""Each registered task's hooks against the engine contract: a tiny model overfits a tiny batch set
through the one engine, and the figures the hooks declare are the ones an epoch logs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from faultcli.data.loader import BatchLoader
from faultcli.engine.engine import Engine
from faultcli.engine.hooks import metric_names
from faultcli.engine.schedules import Schedule
from faultcli.losses import BCEDiceLoss, FocalLoss
from faultcli.models.base import Classifier
from faultcli.tasks import get_task, task_names


class TinyClassifier(Classifier):
    def __init__(self, in_ch: int, classes: int) -> None:
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv1d(in_ch, 8, 5, padding=2), nn.ReLU(), nn.AdaptiveAvgPool1d(1), nn.Flatten()
        )
        self.head = nn.Linear(8, classes)
        self.num_features = 8

    def forward_features(self, x, **inputs):
        return self.backbone(x.flatten(2))

    def forward_head(self, feats):
        return self.head(feats)


def _classification_batches(rng, image: bool):
    y = np.repeat(np.arange(3), 8)
    t = np.arange(64, dtype=np.float32)
    x = np.stack([np.sin(2 * np.pi * (k + 1) * 3 * t / 64) for k in y]).astype(np.float32)
    x = x + 0.1 * rng.normal(size=x.shape).astype(np.float32)
    x = x.reshape(len(y), 1, 8, 8) if image else x[:, None, :]

    def fetch(rows):
        return {"x": torch.from_numpy(x[rows]), "y": torch.from_numpy(y[rows]), "extra": {}}

    return fetch, len(y)


def _segmentation_batches(rng):
    x = rng.random((16, 1, 16, 16)).astype(np.float32)
    mask = (x > 0.6).astype(np.float32)  # the mask is a threshold of the image: learnable by a 1×1 conv

    def fetch(rows):
        return {"x": torch.from_numpy(x[rows]), "mask": torch.from_numpy(mask[rows])}

    return fetch, len(x)


def _setup(task_name: str):
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    task = get_task(task_name)
    if task_name == "segmentation":
        fetch, n = _segmentation_batches(rng)
        model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 1, 1))
        hooks = task.hooks(BCEDiceLoss(0.8))
        figure = "train_dice"
    else:
        fetch, n = _classification_batches(rng, image=task_name == "image-classification")
        model = TinyClassifier(1, 3)
        hooks = task.hooks(FocalLoss(gamma=0.0), 3)
        figure = "train_acc"
    return task, model, hooks, fetch, n, figure


@pytest.mark.parametrize("task_name", task_names())
def test_each_task_overfits_a_tiny_set_through_the_engine(task_name):
    task, model, hooks, fetch, n, figure = _setup(task_name)
    opt = torch.optim.AdamW(model.parameters(), lr=0.02)
    train = BatchLoader(np.arange(n), fetch, 8, shuffle=True)
    val = BatchLoader(np.arange(n), fetch, 8)
    engine = Engine(model, opt, Schedule(opt, "constant"), hooks, device=torch.device("cpu"), seed=0)
    history = engine.fit(train, val, epochs=40)
    assert history[-1]["train_loss"] < 0.5 * history[0]["train_loss"]
    assert history[-1][figure] > history[0][figure] and history[-1][figure] > 0.8
    declared = metric_names(task.hooks)
    logged = {k for k in history[-1] if k.startswith(("train_", "val_"))}
    assert logged <= set(declared), f"{task_name} logs figures it does not declare: {logged - set(declared)}"
