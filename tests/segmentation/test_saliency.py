"""Saliency measures of a probability map against a binary mask, on hand-made maps worked out by hand.

The reference values come from the definitions (Margolin et al. 2014, Fan et al. 2017 and 2018); the
implementation was also checked against PySODMetrics 1.6.2 on random maps (equal to 1e-15, except the
S-measure when the mask's centroid falls on a half pixel: there it rounds half up, as the authors'
MATLAB code does, where PySODMetrics rounds half to even).
"""

from __future__ import annotations

import numpy as np
import pytest

from faultcli.segmentation.saliency import (
    SALIENCY_KEYS,
    SaliencyMeter,
    e_measure,
    e_measure_adaptive,
    e_measure_curve,
    mean_absolute_error,
    s_measure,
    weighted_f_measure,
)


def square(size: int = 20, top: int = 8, side: int = 4) -> np.ndarray:
    truth = np.zeros((size, size), bool)
    truth[top : top + side, top : top + side] = True
    return truth


def test_weighted_f_of_a_perfect_map_is_1_and_of_an_empty_one_0():
    truth = square()
    assert weighted_f_measure(truth.astype(float), truth) == pytest.approx(1.0)
    assert weighted_f_measure(np.zeros(truth.shape), truth) == 0.0


def test_weighted_f_of_a_half_confident_object_is_two_thirds():
    # map 0.5 on the object, 0 elsewhere, object away from the border: the error is 0.5 on the object and
    # the error of the nearest object pixel (0.5) outside, so its blur is 0.5 everywhere near the object;
    # weighted recall 1 - 0.5 = 0.5, no weighted false positive so precision 1: F = 2·0.5·1 / 1.5 = 2/3
    truth = square()
    assert weighted_f_measure(0.5 * truth, truth) == pytest.approx(2 / 3)


def test_weighted_f_weighs_false_positives_by_their_distance_to_the_object():
    # 8 × 8, the object is columns 0-1 (16 px), the map is 1 there and 0.5 on columns 2-7, which lie at
    # distance d = 1..6 from the object and weigh 2 - 0.5^(d/5) each (8 pixels per column).
    # Inside the object the error is 0 and the blurred error cannot be lower: recall 1.
    truth = np.zeros((8, 8), bool)
    truth[:, :2] = True
    prob = np.where(truth, 1.0, 0.5)
    fp = 0.5 * 8 * sum(2 - 0.5 ** (d / 5) for d in range(1, 7))
    precision = 16 / (16 + fp)
    assert weighted_f_measure(prob, truth) == pytest.approx(2 * precision / (1 + precision))


def test_weighted_f_follows_the_reference_zero_padding_at_the_border():
    # the reference blurs with zero padding, so a missed object in a corner keeps some weighted recall
    truth = square(top=0)
    assert 0.0 < weighted_f_measure(np.zeros(truth.shape), truth) < 1.0


def test_weighted_f_is_undefined_without_an_object():
    assert np.isnan(weighted_f_measure(np.zeros((5, 5)), np.zeros((5, 5), bool)))


def test_mae_counts_every_pixel():
    truth = square(size=10, top=0, side=5)  # 25 of 100 pixels
    prob = np.zeros((10, 10))
    prob[9, 9] = 1.0  # 25 missed + 1 false pixel
    assert mean_absolute_error(prob, truth) == pytest.approx(26 / 100)


def test_s_measure_of_a_perfect_map_is_1_and_of_a_flat_half_map_0_4():
    truth = square(size=10, top=2, side=3)  # centroid (3, 3): every quadrant holds object and background
    assert s_measure(truth.astype(float), truth) == pytest.approx(1.0)
    # object part: 2·0.5 / (0.25 + 1) = 0.8 for the object and for the background; region part: a flat
    # map has no covariance with a mixed quadrant, so 0. S = 0.5·0.8 + 0.5·0 = 0.4
    assert s_measure(np.full((10, 10), 0.5), truth) == pytest.approx(0.4)


def test_s_measure_without_an_object_is_one_minus_the_mean_map():
    assert s_measure(np.full((4, 4), 0.25), np.zeros((4, 4), bool)) == pytest.approx(0.75)


def test_e_measure_of_binary_maps():
    truth = square(size=10, top=2, side=3)
    n = truth.size
    # a perfect map aligns every pixel (value 1), and the sum is divided by n - 1
    assert e_measure(truth, truth) == pytest.approx(n / (n - 1))
    # an empty map has zero deviation from its mean: alignment 0, enhanced value 1/4 everywhere
    assert e_measure(np.zeros_like(truth), truth) == pytest.approx(0.25 * n / (n - 1))
    assert e_measure_adaptive(truth.astype(float), truth) == pytest.approx(n / (n - 1))


def test_mean_e_measure_averages_the_256_thresholds():
    # a binary map equals the mask at thresholds 1..255 and is all foreground at threshold 0
    # (alignment 0 again: 1/4 per pixel)
    truth = square(size=10, top=2, side=3)
    n = truth.size
    curve = e_measure_curve(truth.astype(float), truth)
    assert curve.shape == (256,)
    assert curve.mean() == pytest.approx((255 * n / (n - 1) + 0.25 * n / (n - 1)) / 256)


def test_meter_averages_images_and_refuses_a_map_outside_0_1():
    truth = square()
    meter = SaliencyMeter()
    meter.add(truth.astype(float), truth)
    meter.add(0.5 * truth, truth)
    result = meter.result()
    assert list(result) == list(SALIENCY_KEYS) and meter.count == 2
    assert result["weighted_f"] == pytest.approx((1 + 2 / 3) / 2)
    assert result["mae"] == pytest.approx((0 + 0.5 * 16 / 400) / 2)
    assert all(np.isnan(v) for v in SaliencyMeter().result().values())
    with pytest.raises(ValueError, match="0..1"):
        meter.add(2.0 * truth, truth)


def test_a_noisy_map_matches_the_pysodmetrics_reference():
    # values printed by PySODMetrics 1.6.2 (WeightedFmeasure, MAE, Smeasure, Emeasure, normalize=False)
    # for this map; the mask's centroid (5, 5) is a whole pixel, so both roundings agree
    truth = np.zeros((12, 12), bool)
    truth[3:8, 4:7] = True
    prob = np.clip(0.7 * truth + 0.3 * np.random.default_rng(7).random((12, 12)), 0, 1)
    reference = {
        "weighted_f": 0.470095178763235,
        "mae": 0.1559467099184639,
        "s_measure": 0.787800110745968,
        "e_measure_mean": 0.7127782937690699,
        "e_measure_adaptive": 1.0069930069929978,
    }
    assert SaliencyMeter().add(prob, truth) == pytest.approx(reference, abs=1e-12)
