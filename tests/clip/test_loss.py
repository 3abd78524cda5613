"""Contrastive losses: the class-aware loss against a loop written out by hand, its agreement with CLIP's
arange form when every class appears once, why the arange form is wrong for batches with repeated classes,
and the clamped learnable temperature."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from faultcli.clip import LogitScale, clip_loss, clip_loss_arange
from faultcli.errors import ConfigError


def hand_clip_loss(signal, text, labels, scale):
    """The class-aware loss, term by term with Python loops."""
    s = F.normalize(signal, dim=1).tolist()
    t = F.normalize(text, dim=1).tolist()
    logits = [[scale * sum(a * b for a, b in zip(si, tc, strict=True)) for tc in t] for si in s]
    s2t = 0.0
    for row, y in zip(logits, labels, strict=True):
        s2t += -(row[y] - math.log(sum(math.exp(v) for v in row)))
    s2t /= len(labels)
    present = sorted(set(labels))
    t2s = 0.0
    for c in present:
        column = [row[c] for row in logits]
        log_z = math.log(sum(math.exp(v) for v in column))
        positives = [i for i, y in enumerate(labels) if y == c]
        t2s += -sum(column[i] - log_z for i in positives) / len(positives)
    t2s /= len(present)
    return (s2t + t2s) / 2


def test_clip_loss_matches_the_hand_loop_with_an_absent_class():
    torch.manual_seed(0)
    signal, text = torch.randn(5, 4), torch.randn(3, 4)
    labels = [0, 2, 0, 0, 2]  # class 1 has no window in this batch: only classes 0 and 2 pull windows
    loss = clip_loss(signal, text, torch.tensor(labels), 7.0)
    assert loss.item() == pytest.approx(hand_clip_loss(signal, text, labels, 7.0), rel=1e-5)


def test_with_one_window_per_class_both_forms_agree():
    torch.manual_seed(1)
    signal, text = torch.randn(4, 6), torch.randn(4, 6)
    labels = torch.tensor([2, 0, 3, 1])
    expected = clip_loss_arange(signal, text[labels], 10.0)
    torch.testing.assert_close(clip_loss(signal, text, labels, 10.0), expected)
    torch.testing.assert_close(clip_loss(signal, text, labels, torch.tensor(10.0)), expected)


LABELS = torch.tensor([0, 0, 1, 1])  # two windows per class
E0, E1 = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])
CLASS_TEXT = torch.stack([E0, -E0])  # the best two-class text layout on the sphere: opposite points
ALIGNED = CLASS_TEXT[LABELS]  # every window sits on its class's text
SPLIT = torch.stack([E0, E1, -E0, -E1])  # same-class windows pulled apart, each with its own text
SCALE = 10.0


def test_aligned_embedding_minimises_clip_loss():
    best = clip_loss(ALIGNED, CLASS_TEXT, LABELS, SCALE)
    generator = torch.Generator().manual_seed(0)
    for size in (0.01, 0.1, 0.5):
        for _ in range(50):
            moved = F.normalize(ALIGNED + size * torch.randn(ALIGNED.shape, generator=generator), dim=1)
            assert clip_loss(moved, CLASS_TEXT, LABELS, SCALE) >= best - 1e-6  # float32 rounding near the minimum
    assert clip_loss(SPLIT, CLASS_TEXT, LABELS, SCALE) > best + 1.0


def test_arange_loss_is_lowered_by_pulling_same_class_windows_apart():
    aligned = clip_loss_arange(ALIGNED, ALIGNED, SCALE)  # one text per window: its class's text
    split = clip_loss_arange(SPLIT, SPLIT, SCALE)
    # aligned: each window's text is tied with its same-class neighbour's, so each side costs ≈ log 2
    assert aligned.item() == pytest.approx(math.log(2), abs=1e-3)
    assert split.item() < 1e-3 < aligned.item()


def angle(a, b):
    return torch.arccos(F.normalize(a, dim=0) @ F.normalize(b, dim=0).clamp(-1, 1)).item()


def test_gradient_step_separates_same_class_pairs_under_arange_and_joins_them_under_clip_loss():
    # start off the aligned point (there both gradients vanish: for the arange form it is a saddle)
    eps = 0.2
    near = ALIGNED.clone()
    near[1] = math.cos(eps) * E0 + math.sin(eps) * E1
    near[3] = -near[1]
    before = angle(near[0], near[1])

    signal = near.clone().requires_grad_(True)
    text = near.clone().requires_grad_(True)  # the arange form's per-window texts move too (a trained text path)
    clip_loss_arange(signal, text, SCALE).backward()
    stepped = F.normalize(signal.detach() - 0.5 * signal.grad, dim=1)
    assert angle(stepped[0], stepped[1]) > before * 1.5  # 0.2 → 0.42 rad

    signal = near.clone().requires_grad_(True)
    clip_loss(signal, CLASS_TEXT, LABELS, SCALE).backward()
    stepped = F.normalize(signal.detach() - 0.5 * signal.grad, dim=1)
    assert angle(stepped[0], stepped[1]) < before * 0.97  # 0.2 → 0.19 rad


def test_shapes_are_checked():
    with pytest.raises(ValueError):
        clip_loss(torch.randn(4, 3), torch.randn(2, 5), LABELS, 1.0)
    with pytest.raises(ValueError):
        clip_loss_arange(torch.randn(4, 3), torch.randn(3, 3), 1.0)


def test_logit_scale_starts_at_clip_value_and_is_clamped():
    scale = LogitScale()
    assert scale().item() == pytest.approx(1 / 0.07, rel=1e-6)
    scale().backward()
    assert scale.log_scale.grad.item() == pytest.approx(1 / 0.07, rel=1e-6)  # d exp(x) / dx = exp(x)
    with torch.no_grad():
        scale.log_scale.fill_(9.0)
    assert scale().item() == pytest.approx(100.0)
    scale.log_scale.grad = None
    scale().backward()
    assert scale.log_scale.grad.item() == 0.0  # past the bound it no longer moves
    scale.clamp_()
    assert scale.log_scale.item() == pytest.approx(math.log(100.0))
    assert LogitScale(init=5.0, max=20.0)().item() == pytest.approx(5.0)


@pytest.mark.parametrize("init, max_", [(0.5, 100.0), (200.0, 100.0)])
def test_logit_scale_bad_init_is_config_error(init, max_):
    with pytest.raises(ConfigError):
        LogitScale(init=init, max=max_)
