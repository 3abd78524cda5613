"""Envelope-analysis linear baseline: size, surface, invariances, and that it learns fault orders."""

import math

import pytest
import torch

from faultcli.diagnostics.bearings import BEARINGS
from faultcli.errors import ConfigError, DataError
from faultcli.models import create_model

RATE, WINDOW = 12000, 2048


def _impacts(order: torch.Tensor, rpm: torch.Tensor, resonance: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """(B, 1, WINDOW) windows of impacts at ``order`` × shaft speed ringing at ``resonance`` Hz, in noise."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(WINDOW) / RATE
    period = 60.0 / (order * rpm)  # seconds between impacts, (B,)
    phase = torch.rand(len(order), generator=g) * period
    since = torch.remainder(t[None, :] - phase[:, None], period[:, None])  # time since the last impact
    x = torch.exp(-since * 900) * torch.sin(2 * math.pi * resonance[:, None] * since)
    x = x / x.std(dim=1, keepdim=True) + 0.5 * torch.randn(x.shape, generator=g)
    return x.unsqueeze(1)


def test_a_few_hundred_weights_on_named_physical_features():
    model = create_model("envelope_linear", num_classes=10, window=1024, sample_rate=RATE).eval()
    # 5 lines (1X, BPFO, BPFI, BSF, FTF) × 3 harmonics × 5 demodulation bands + 5 band kurtoses
    assert model.num_features == len(model.feature_names) == 80
    assert sum(p.numel() for p in model.parameters()) == 80 * 10 + 10
    assert "2×BPFI@1500-3000Hz" in model.feature_names and "kurtosis@0-6000Hz" in model.feature_names
    x = torch.randn(4, 1, 1024)
    rpm = torch.full((4,), 1772.0)
    feats = model.forward_features(x, rpm=rpm)
    assert feats.shape == (4, 80) and torch.isfinite(feats).all()
    assert model(x, rpm=rpm).shape == model.forward_head(feats).shape == (4, 10)
    # amplitude does not reach the features
    assert torch.allclose(model.physics(25.0 * x, rpm), model.physics(x, rpm), atol=1e-3)


def test_the_line_is_read_where_the_shaft_speed_puts_it():
    model = create_model("envelope_linear", num_classes=2, window=WINDOW, sample_rate=RATE).eval()
    bpfo = BEARINGS["6205"].orders()["BPFO"]
    rpm = torch.tensor([1730.0, 1797.0])
    x = _impacts(torch.full((2,), bpfo), rpm, torch.full((2,), 3000.0))
    name = model.feature_names.index("1×BPFO@0-6000Hz")
    right = model.physics(x, rpm)[:, name]
    wrong = model.physics(x, rpm * 1.3)[:, name]  # read at a speed 30 % off: the line is missed
    assert (right > wrong + 1.0).all()
    # an unknown speed falls back to the nominal one
    nan = torch.tensor([float("nan"), float("nan")])
    assert torch.allclose(model.physics(x, nan), model.physics(x, torch.full((2,), 1797.0)))
    assert torch.allclose(model.physics(x, None), model.physics(x, torch.full((2,), 1797.0)))


def test_learns_outer_from_inner_race_across_speeds_and_resonances():
    torch.manual_seed(0)
    orders = BEARINGS["6205"].orders()
    n = 96
    y = torch.randint(0, 2, (n,))
    order = torch.where(y == 0, orders["BPFO"], orders["BPFI"])
    rpm = torch.empty(n).uniform_(1700, 1800)
    resonance = torch.empty(n).uniform_(1500, 4500)  # which resonance rings does not tell the class
    x = _impacts(order, rpm, resonance)
    model = create_model("envelope_linear", num_classes=2, window=WINDOW, sample_rate=RATE)
    physics = model.physics(x, rpm)  # the front end is fixed: computed once, as model(x) would each step
    opt = torch.optim.AdamW(model.parameters(), lr=0.05)
    for _ in range(40):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model.forward_head(model.standardize(physics)), y).backward()
        opt.step()
    model.eval()
    test_y = torch.randint(0, 2, (64,), generator=torch.Generator().manual_seed(1))
    test_order = torch.where(test_y == 0, orders["BPFO"], orders["BPFI"])
    test_rpm = torch.empty(64).uniform_(1700, 1800)
    test_x = _impacts(test_order, test_rpm, torch.empty(64).uniform_(1500, 4500), seed=1)
    assert (model(test_x, rpm=test_rpm).argmax(-1) == test_y).float().mean() > 0.95


def test_bad_settings_say_what_to_do():
    with pytest.raises(ConfigError, match="known: 6203"):
        create_model("envelope_linear", num_classes=3, bearing="6306")
    with pytest.raises(ConfigError, match="data.window >= 256"):
        create_model("envelope_linear", num_classes=3, window=128)
    other = create_model("envelope_linear", num_classes=3, geometry="balls=8,ball=0.2656,pitch=1.122")
    assert other.line_orders[3] == pytest.approx(BEARINGS["6203"].orders()["BPFO"])
    model = create_model("envelope_linear", num_classes=3, window=1024)
    with pytest.raises(DataError, match="data.window = 1024"):
        model(torch.randn(2, 1, 512))
