"""WDCNN baseline: the paper's layout and parameter count, and the shared model surface."""

import pytest
import torch

from faultcli.errors import ConfigError, DataError
from faultcli.models import create_model


def _params(model):
    return sum(p.numel() for name, p in model.named_parameters() if not name.startswith("arcface."))


def test_paper_window_has_about_54k_parameters():
    assert 52_000 <= _params(create_model("wdcnn", num_classes=10, window=2048)) <= 56_000


def test_window_1024_is_smaller():
    assert 40_000 <= _params(create_model("wdcnn", num_classes=10, window=1024)) <= 43_000


def test_surface_and_shapes():
    model = create_model("wdcnn", num_classes=4, window=1024).eval()
    x = torch.randn(3, 1, 1024)
    feats = model.forward_features(x)
    assert feats.shape == (3, model.num_features) == (3, 100)
    assert model.forward_head(feats).shape == model(x, rpm=None).shape == (3, 4)
    assert model.modality_weights is None
    assert model.arcface(feats, torch.tensor([0, 1, 2])).shape == (3, 4)


def test_bad_window_and_bad_input():
    with pytest.raises(ConfigError, match="1024"):
        create_model("wdcnn", window=512)
    with pytest.raises(DataError, match="data.window"):
        create_model("wdcnn", window=1024)(torch.randn(2, 1, 2048))
