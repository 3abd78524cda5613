"""Threshold and minimum-area post-processing, and its tuning on validation masks."""

from __future__ import annotations

import numpy as np
import pytest

from faultcli.segmentation.postprocess import PostProcess, binarize, remove_small, tune


def test_remove_small_drops_only_components_below_the_area():
    mask = np.zeros((10, 10), dtype=np.uint8)
    mask[0, 0:2] = 1  # 2 px
    mask[5:8, 5:8] = 1  # 9 px
    kept = remove_small(mask, 3)
    assert kept.sum() == 9 and kept[5:8, 5:8].all()
    assert remove_small(mask, 0).sum() == 11


def test_binarize_uses_each_class_threshold_and_area():
    probs = np.zeros((2, 6, 6), dtype=np.float32)
    probs[0, :2, :2] = 0.6
    probs[1, :2, :2] = 0.6
    probs[1, 4, 4] = 0.9
    post = PostProcess(thresholds=[0.7, 0.5], min_areas=[0, 2])
    out = binarize(probs, post)
    assert out[0].sum() == 0  # 0.6 is below class 0's threshold
    assert out[1].sum() == 4 and out[1, 4, 4] == 0  # the lone pixel is below class 1's area


def test_tuning_finds_the_threshold_and_area_that_make_masks_exact():
    """Truth: a 6 × 6 square. Probabilities: 0.6 on it, 0.4 on a ring around it, and a 2-pixel
    speck at 0.9 elsewhere: only a threshold in (0.4, 0.6] with a minimum area above 2 is exact."""
    probs, masks = [], []
    for shift in range(4):
        p = np.full((1, 40, 40), 0.05, dtype=np.float32)
        m = np.zeros((1, 40, 40), dtype=np.uint8)
        top = 10 + shift
        p[0, top - 2 : top + 8, 8:18] = 0.4
        p[0, top : top + 6, 10:16] = 0.6
        m[0, top : top + 6, 10:16] = 1
        p[0, 35, 30:32] = 0.9
        probs.append(p)
        masks.append(m)
    post = tune(zip(probs, masks, strict=True), thresholds=(0.5, 0.3, 0.45, 0.7), area_fractions=(0.0, 0.001, 0.01))
    assert post.val_dice == [pytest.approx(1.0)]
    assert 0.4 < post.thresholds[0] <= 0.6
    assert post.min_areas[0] > 2
    assert all((binarize(p, post) == m).all() for p, m in zip(probs, masks, strict=True))


def test_tuning_keeps_the_default_when_nothing_is_better():
    probs = [np.full((2, 8, 8), 0.01, dtype=np.float32)]
    masks = [np.zeros((2, 8, 8), dtype=np.uint8)]
    post = tune(zip(probs, masks, strict=True))
    assert post.thresholds == [0.5, 0.5] and post.min_areas == [0, 0] and post.val_dice == [1.0, 1.0]


def test_postprocess_round_trips_through_a_plain_dict():
    post = PostProcess([0.4, 0.6], [10, 0], [0.9, 0.8])
    assert PostProcess.from_dict(post.to_dict()) == post
