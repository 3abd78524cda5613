"""Span masking and the masked reconstruction loss."""

import pytest
import torch

from faultcli.losses.reconstruction import mask_spans, masked_reconstruction_loss


@pytest.mark.parametrize(("ratio", "span"), [(0.15, 8), (0.3, 16), (0.5, 32)])
def test_masked_share_is_about_the_ratio_in_every_window(ratio, span):
    x = torch.randn(16, 2, 1024)
    masked, mask = mask_spans(x, ratio, span, torch.Generator().manual_seed(0))
    share = mask.float().mean(dim=(1, 2))
    assert torch.allclose(share, torch.full_like(share, ratio), atol=span / 1024)
    assert mask.shape == x.shape and mask.dtype == torch.bool
    assert torch.equal(mask[:, 0], mask[:, 1])  # the same spans in every channel
    assert (masked[mask] == 0).all() and torch.equal(masked[~mask], x[~mask])


def test_masks_are_spans_of_the_given_length_at_varied_places():
    x = torch.randn(8, 1, 512)
    _, mask = mask_spans(x, 0.25, 16, torch.Generator().manual_seed(1))
    row = mask[:, 0].int()
    edges = row.diff(dim=1, prepend=torch.zeros(8, 1, dtype=torch.int32))
    starts = (edges == 1).nonzero()[:, 1]
    for b in range(8):
        values, lengths = torch.unique_consecutive(row[b], return_counts=True)
        assert (lengths[values == 1] % 16 == 0).all()  # adjacent spans merge into runs of whole spans
    assert len(set((starts % 16).tolist())) > 1  # not one fixed grid


def test_same_seed_same_mask_other_seed_other_mask():
    x = torch.randn(4, 1, 256)
    _, a = mask_spans(x, 0.3, 8, torch.Generator().manual_seed(5))
    _, b = mask_spans(x, 0.3, 8, torch.Generator().manual_seed(5))
    _, c = mask_spans(x, 0.3, 8, torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_loss_scores_only_masked_samples():
    target = torch.randn(3, 2, 64)
    _, mask = mask_spans(target, 0.25, 4, torch.Generator().manual_seed(2))
    assert masked_reconstruction_loss(target.clone(), target, mask).item() == 0.0
    wrong_outside = torch.where(mask, target, target + 100.0)
    assert masked_reconstruction_loss(wrong_outside, target, mask).item() == 0.0
    off_by_two = torch.where(mask, target + 2.0, target)
    assert masked_reconstruction_loss(off_by_two, target, mask).item() == pytest.approx(4.0)
    # a (B, 1, T) mask broadcasts over channels
    assert masked_reconstruction_loss(off_by_two, target, mask[:, :1]).item() == pytest.approx(4.0)


def test_loss_gradient_is_zero_outside_the_mask():
    target = torch.randn(2, 1, 32)
    pred = torch.randn(2, 1, 32, requires_grad=True)
    _, mask = mask_spans(target, 0.25, 4, torch.Generator().manual_seed(3))
    masked_reconstruction_loss(pred, target, mask).backward()
    assert (pred.grad[~mask] == 0).all() and (pred.grad[mask] != 0).all()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="ratio"):
        mask_spans(torch.randn(1, 1, 64), 1.0, 4)
    with pytest.raises(ValueError, match="span"):
        mask_spans(torch.randn(1, 1, 64), 0.2, 40)
    with pytest.raises(ValueError, match="B, C, T"):
        mask_spans(torch.randn(1, 64), 0.2, 4)
