"""Tiled inference: tiles cover the image, and blending gives the whole-image answer where it must."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from faultcli.segmentation.inference import blend_weights, predict_images, predict_tiled, tile_starts, to_tensor


def pointwise_model(in_channels: int = 1, classes: int = 2) -> nn.Module:
    """A 1 × 1 convolution: each output pixel depends on its own input pixel only, so a tile's answer
    at a pixel equals the whole image's — any misplaced tile or wrong normalisation shows up."""
    torch.manual_seed(0)
    return nn.Conv2d(in_channels, classes, kernel_size=1).eval()


@pytest.mark.parametrize(
    ("size", "tile", "overlap"), [(1600, 192, 0.25), (256, 192, 0.5), (200, 64, 0.0), (64, 64, 0.25)]
)
def test_tiles_cover_every_pixel_and_stay_inside(size, tile, overlap):
    starts = tile_starts(size, tile, overlap)
    covered = np.zeros(size, dtype=int)
    for s in starts:
        assert 0 <= s <= size - tile
        covered[s : s + tile] += 1
    assert covered.min() >= 1
    assert starts[-1] + tile == size


def test_blend_weights_are_positive_and_peak_in_the_middle():
    w = blend_weights(7, 10)
    assert w.min() > 0
    assert w.max() == pytest.approx(1.0)
    assert w[3, 4] == w.max()


def test_tiled_strip_equals_whole_image_for_a_pointwise_model():
    model = pointwise_model()
    x = torch.randn(1, 256, 1600)
    whole = torch.sigmoid(model(x[None]))[0]
    tiled = predict_tiled(model, x, tile=(192, 192), overlap=0.25, batch_size=8)
    assert tiled.shape == whole.shape
    assert torch.allclose(tiled, whole, atol=1e-6)


def test_flip_tta_of_a_flip_equivariant_model_changes_nothing():
    model = pointwise_model()
    x = torch.randn(1, 100, 300)
    plain = predict_tiled(model, x, tile=(64, 64), overlap=0.25)
    assert torch.allclose(predict_tiled(model, x, tile=(64, 64), overlap=0.25, tta_flip=True), plain, atol=1e-6)


def test_predict_images_keeps_order_and_sizes_and_normalises():
    model = pointwise_model(in_channels=3, classes=1)
    rng = np.random.default_rng(0)
    images = [
        rng.integers(0, 256, shape, dtype=np.uint8)
        for shape in [(32, 32, 3), (32, 32, 3), (70, 150, 3), (32, 32, 3), (20, 30, 3)]
    ]
    mean, std = [0.4, 0.5, 0.6], [0.2, 0.25, 0.3]
    probs = predict_images(model, images, mean, std, tile=(32, 32), overlap=0.25, batch_size=2)
    assert [p.shape for p in probs] == [(1, 32, 32), (1, 32, 32), (1, 70, 150), (1, 32, 32), (1, 20, 30)]
    for image, p in zip(images, probs, strict=True):
        expected = torch.sigmoid(model(to_tensor(image[None], mean, std)))[0].detach().numpy()
        np.testing.assert_allclose(p, expected, atol=1e-5)


def test_to_tensor_normalises_per_channel():
    image = np.full((1, 2, 2, 2), 255, dtype=np.uint8)
    x = to_tensor(image, [0.5, 0.0], [0.5, 2.0])
    assert x.shape == (1, 2, 2, 2)
    assert torch.allclose(x[0, 0], torch.ones(2, 2)) and torch.allclose(x[0, 1], torch.full((2, 2), 0.5))
