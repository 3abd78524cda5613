"""NT-Xent and supervised contrastive losses against explicit loops over small cases."""

import math

import pytest
import torch
import torch.nn.functional as F

from faultcli.losses.contrastive import nt_xent, supcon


def loop_supcon(z: torch.Tensor, labels: list[int], tau: float) -> float:
    """Khosla et al.'s L_out written out term by term."""
    z = F.normalize(z.double(), dim=1)
    n, total, anchors = len(z), 0.0, 0
    for i in range(n):
        positives = [p for p in range(n) if p != i and labels[p] == labels[i]]
        if not positives:
            continue
        denom = sum(math.exp(float(z[i] @ z[a]) / tau) for a in range(n) if a != i)
        total += -sum(math.log(math.exp(float(z[i] @ z[p]) / tau) / denom) for p in positives) / len(positives)
        anchors += 1
    return total / anchors


def test_nt_xent_of_two_windows_by_hand():
    # two windows, two views each: anchors at 0°, 90°, 30°, 120°; positives 0°↔30° and 90°↔120°
    deg = torch.deg2rad(torch.tensor([0.0, 90.0, 30.0, 120.0]))
    z = torch.stack([deg.cos(), deg.sin()], dim=1)
    tau = 0.5
    cos = {a: math.cos(math.radians(a)) for a in (30, 60, 90, 120)}
    # every anchor's positive is 30° away; the angles to its two negatives differ per anchor
    negatives = [[cos[90], cos[120]], [cos[90], cos[60]], [cos[60], cos[90]], [cos[120], cos[90]]]
    terms = [
        -math.log(math.exp(cos[30] / tau) / (math.exp(cos[30] / tau) + sum(math.exp(s / tau) for s in neg)))
        for neg in negatives
    ]
    expected = sum(terms) / 4
    assert nt_xent(z[:2], z[2:], tau).item() == pytest.approx(expected, rel=1e-5)


def test_nt_xent_is_supcon_with_one_label_per_window():
    torch.manual_seed(0)
    z1, z2 = torch.randn(5, 8), torch.randn(5, 8)
    labels = torch.arange(5)
    both = supcon(torch.cat([z1, z2]), torch.cat([labels, labels]), 0.3)
    assert nt_xent(z1, z2, 0.3).item() == pytest.approx(both.item(), rel=1e-5)


def test_supcon_matches_the_loop_and_leaves_out_anchors_without_positives():
    torch.manual_seed(1)
    z, labels = torch.randn(6, 4), [0, 0, 1, 1, 1, 2]  # label 2 has no positive
    got = supcon(z, torch.tensor(labels), 0.2).item()
    assert got == pytest.approx(loop_supcon(z, labels, 0.2), rel=1e-5)


def test_supcon_accepts_views_stacked_as_a_dimension():
    torch.manual_seed(2)
    z, labels = torch.randn(4, 3, 8), torch.tensor([0, 1, 0, 2])  # 4 windows, 3 views
    flat = z.transpose(0, 1).reshape(12, 8)
    assert supcon(z, labels, 0.1).item() == pytest.approx(supcon(flat, labels.repeat(3), 0.1).item(), rel=1e-6)
    assert supcon(z, labels, 0.1).item() == pytest.approx(loop_supcon(flat, labels.repeat(3).tolist(), 0.1), rel=1e-5)


def test_losses_ignore_the_scale_of_the_embeddings():
    torch.manual_seed(3)
    z1, z2, labels = torch.randn(4, 6), torch.randn(4, 6), torch.tensor([0, 1, 1, 0])
    assert nt_xent(7.0 * z1, 0.1 * z2).item() == pytest.approx(nt_xent(z1, z2).item(), rel=1e-5)
    assert supcon(5.0 * z1, labels).item() == pytest.approx(supcon(z1, labels).item(), rel=1e-5)


def test_gradients_are_finite_even_without_positives():
    z = torch.randn(4, 5, requires_grad=True)
    (nt_xent(z[:2], z[2:]) + supcon(z, torch.tensor([0, 0, 1, 1]))).backward()
    assert torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0
    lonely = torch.randn(3, 5, requires_grad=True)
    loss = supcon(lonely, torch.tensor([0, 1, 2]))
    loss.backward()
    assert loss.item() == 0.0 and torch.equal(lonely.grad, torch.zeros_like(lonely))


def test_bad_shapes_and_temperature_are_refused():
    with pytest.raises(ValueError, match="two"):
        nt_xent(torch.randn(3, 4), torch.randn(2, 4))
    with pytest.raises(ValueError, match="labels"):
        supcon(torch.randn(3, 4), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="temperature"):
        nt_xent(torch.randn(2, 4), torch.randn(2, 4), 0.0)
