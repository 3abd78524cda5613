"""Softmax and ArcFace heads."""

import math

import torch

from faultcli.models.heads import ArcFaceHead, SoftmaxHead
from faultcli.registry import create


def test_softmax_head_shape():
    feats = torch.randn(4, 32)
    assert SoftmaxHead(32, 5).eval()(feats).shape == (4, 5)


def test_heads_are_registered():
    assert isinstance(create("head", "arcface", in_features=8, num_classes=3), ArcFaceHead)
    assert isinstance(create("head", "softmax", in_features=8, num_classes=3), SoftmaxHead)


def test_arcface_without_margin_is_scaled_cosine():
    head = ArcFaceHead(16, 4, margin=0.0, scale=10.0)
    feats, labels = torch.randn(6, 16), torch.randint(0, 4, (6,))
    assert torch.allclose(head(feats, labels), 10.0 * head.cosine(feats), atol=1e-6)
    assert torch.allclose(head(feats), 10.0 * head.cosine(feats), atol=1e-6)


def test_arcface_margin_lowers_only_the_target_logit():
    head = ArcFaceHead(16, 4, margin=0.5, scale=30.0)
    feats, labels = torch.randn(8, 16), torch.arange(8) % 4
    plain, margin = head(feats), head(feats, labels)
    target = torch.nn.functional.one_hot(labels, 4).bool()
    assert (margin[target] < plain[target]).all()
    assert torch.allclose(margin[~target], plain[~target])
    # where θ + m stays below π the target logit is exactly s·cos(θ + m)
    theta = torch.acos(head.cosine(feats)[target])
    ok = theta + 0.5 < math.pi
    assert torch.allclose(margin[target][ok], 30.0 * torch.cos(theta[ok] + 0.5), atol=1e-4)


def test_arcface_gradients_stay_finite_at_cos_one_and_minus_one():
    head = ArcFaceHead(8, 2, margin=0.3)
    with torch.no_grad():
        head.weight[1] = -head.weight[0]
    feats = head.weight.detach()[[0, 0]].clone().requires_grad_(True)  # cos = 1 (class 0), −1 (class 1)
    logits = head(feats, torch.tensor([0, 1]))
    logits.sum().backward()
    assert torch.isfinite(logits).all()
    assert torch.isfinite(feats.grad).all() and torch.isfinite(head.weight.grad).all()
