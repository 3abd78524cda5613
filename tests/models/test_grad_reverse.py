"""Gradient reversal and DANN's weight schedule."""

import math

import pytest
import torch

from faultcli.models.layers.grad_reverse import GradientReversal, dann_weight, grad_reverse


@pytest.mark.parametrize("weight", [0.0, 0.5, 1.0])
def test_forward_is_identity_and_backward_is_minus_weight_times_grad(weight):
    x = torch.randn(4, 3, requires_grad=True)
    upstream = torch.randn(4, 3)
    layer = GradientReversal()
    layer.weight = weight  # set per step by the caller
    y = layer(x)
    assert torch.equal(y, x)
    y.backward(upstream)
    assert torch.allclose(x.grad, -weight * upstream)


def test_reversal_flips_the_gradient_a_discriminator_sends_to_the_features():
    torch.manual_seed(0)
    feats = torch.randn(5, 4, requires_grad=True)
    disc = torch.nn.Linear(4, 1)
    disc(feats).sum().backward()
    plain = feats.grad.clone()
    feats.grad = None
    disc(grad_reverse(feats, 0.5)).sum().backward()
    assert torch.allclose(feats.grad, -0.5 * plain)


def test_dann_weight_endpoints_and_monotonic_rise():
    assert dann_weight(0.0) == 0.0
    assert dann_weight(1.0) == pytest.approx(2 / (1 + math.exp(-10)) - 1)
    assert dann_weight(1.0, max_weight=0.3) == pytest.approx(0.3 * (2 / (1 + math.exp(-10)) - 1))
    values = [dann_weight(p / 20) for p in range(21)]
    assert all(a < b for a, b in zip(values, values[1:], strict=False))
    assert dann_weight(-0.5) == 0.0 and dann_weight(2.0) == dann_weight(1.0)  # progress is clamped
