"""Band-spectrum linear baseline: its size, the shared model surface, and that it learns spectral shape."""

import pytest
import torch

from faultcli.errors import ConfigError, DataError
from faultcli.models import create_model


def test_one_linear_layer_on_standardised_band_shares():
    model = create_model("band_linear", num_classes=9, window=1024, n_bands=64).eval()
    assert sum(p.numel() for p in model.parameters()) == 64 * 9 + 9
    x = torch.randn(5, 1, 1024)
    feats = model.forward_features(x)
    assert feats.shape == (5, model.num_features) == (5, 64)
    assert model.forward_head(feats).shape == model(x, rpm=None).shape == (5, 9)
    assert model.modality_weights is None and model.arcface is None  # no margin head
    # amplitude does not reach the features
    assert torch.allclose(model.forward_features(30.0 * x), feats, atol=1e-4)


def test_learns_which_band_carries_the_power():
    torch.manual_seed(0)
    t = torch.arange(1024) / 12000.0
    tones = torch.tensor([500.0, 2500.0, 4500.0])  # one resonance per class
    y = torch.randint(0, 3, (192,))
    amp = torch.empty(192, 1).uniform_(0.1, 10.0)  # amplitude varies: only the band tells the class
    x = (amp * torch.sin(2 * torch.pi * tones[y][:, None] * t) + 0.3 * torch.randn(192, 1024)).unsqueeze(1)
    model = create_model("band_linear", num_classes=3, window=1024, n_bands=32)
    opt = torch.optim.AdamW(model.parameters(), lr=0.05)
    for _ in range(40):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    model.eval()
    assert (model(x).argmax(-1) == y).float().mean() > 0.95


def test_bad_window_or_band_count_says_what_to_do():
    with pytest.raises(ConfigError, match="data.window >= 256"):
        create_model("band_linear", num_classes=3, window=200, n_bands=128)
    model = create_model("band_linear", num_classes=3, window=1024)
    with pytest.raises(DataError, match="data.window = 1024"):
        model(torch.randn(2, 1, 512))
