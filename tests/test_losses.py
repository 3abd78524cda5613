"""Focal loss against a hand computation, and class-balanced α from effective numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from faultcli.losses import FocalLoss, class_balanced_alpha

LOGITS = torch.tensor([[2.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
TARGETS = torch.tensor([0, 2])


def test_focal_loss_matches_hand_computation_with_alpha():
    # p_true of sample 0 = e²/(e²+e+1), of sample 1 = e/(2+e); loss_i = −α_y (1 − p)^γ log p, then the mean
    p0 = math.exp(2) / (math.exp(2) + math.exp(1) + 1)
    p1 = math.e / (2 + math.e)
    alpha = torch.tensor([0.5, 1.0, 1.5])
    hand = (-0.5 * (1 - p0) ** 2 * math.log(p0) - 1.5 * (1 - p1) ** 2 * math.log(p1)) / 2
    assert hand == pytest.approx(0.0857309, abs=1e-6)  # the figures written out: 0.665241, 0.576117
    loss = FocalLoss(gamma=2.0, alpha=alpha, label_smoothing=0.0)(LOGITS, TARGETS)
    assert loss.item() == pytest.approx(hand, rel=1e-6)


def test_focal_loss_without_alpha_and_gamma_one():
    p0 = math.exp(2) / (math.exp(2) + math.exp(1) + 1)
    p1 = math.e / (2 + math.e)
    hand = (-(1 - p0) * math.log(p0) - (1 - p1) * math.log(p1)) / 2
    assert FocalLoss(gamma=1.0)(LOGITS, TARGETS).item() == pytest.approx(hand, rel=1e-6)


def test_gamma_zero_is_cross_entropy_with_label_smoothing():
    loss = FocalLoss(gamma=0.0, label_smoothing=0.1)(LOGITS, TARGETS)
    assert loss.item() == pytest.approx(F.cross_entropy(LOGITS, TARGETS, label_smoothing=0.1).item(), rel=1e-6)


def test_focal_loss_down_weights_easy_samples():
    easy, hard = torch.tensor([[6.0, 0.0, 0.0]]), torch.tensor([[0.5, 0.0, 0.0]])
    y = torch.tensor([0])
    ce_ratio = F.cross_entropy(easy, y) / F.cross_entropy(hard, y)
    focal_ratio = FocalLoss(gamma=2.0)(easy, y) / FocalLoss(gamma=2.0)(hard, y)
    assert focal_ratio < ce_ratio / 100


def test_class_balanced_alpha_from_effective_numbers():
    counts = [100, 10]
    alpha = class_balanced_alpha(counts, beta=0.9).numpy()
    effective = np.array([(1 - 0.9**100) / 0.1, (1 - 0.9**10) / 0.1])  # ≈ 9.9997, 6.5132
    expected = (1 / effective) / (1 / effective).mean()
    np.testing.assert_allclose(alpha, expected, rtol=1e-6)
    np.testing.assert_allclose(alpha, [0.78887, 1.21113], atol=1e-4)
    assert alpha.mean() == pytest.approx(1.0) and alpha[1] > alpha[0]  # the rare class weighs more


def test_class_balanced_alpha_beta_zero_and_empty_class():
    assert class_balanced_alpha([5, 50, 500], beta=0.0).tolist() == [1.0, 1.0, 1.0]
    alpha = class_balanced_alpha([0, 10], beta=0.99)  # an empty class counts as one sample, no division by 0
    assert torch.isfinite(alpha).all() and alpha[0] > alpha[1]
