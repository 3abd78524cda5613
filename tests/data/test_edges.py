"""Edge maps: CLAHE + Canny with median-based thresholds."""

import numpy as np
from scipy import ndimage

from faultcli.data.edges import canny_thresholds, edge_map


def _square(size=128, lo=30, hi=200):
    image = np.full((size, size), lo, dtype=np.uint8)
    image[40:90, 50:100] = hi
    return image


def test_edges_on_the_square_border_only():
    image = _square()
    edges = edge_map(image)
    assert edges.dtype == np.uint8 and edges.shape == image.shape
    assert set(np.unique(edges).tolist()) <= {0, 255}
    border = np.zeros(image.shape, dtype=bool)
    border[40:90, 50:100] = True
    border = ndimage.binary_dilation(border, iterations=2) & ~ndimage.binary_erosion(border, iterations=2)
    found = edges > 0
    assert found[border].sum() >= 150  # the 4 sides are ~200 pixels long in all
    assert not found[~border].any()  # nothing far from the border
    # each side of the square is found
    assert found[38:42, 55:95].any() and found[88:92, 55:95].any()
    assert found[45:85, 48:52].any() and found[45:85, 98:102].any()


def test_rgb_and_gray_give_the_same_map():
    gray = _square()
    rgb = np.repeat(gray[:, :, None], 3, axis=2)
    assert np.array_equal(edge_map(gray), edge_map(rgb))
    assert np.array_equal(edge_map(gray), edge_map(gray[:, :, None]))


def test_flat_image_has_no_edges():
    assert edge_map(np.full((64, 64), 120, dtype=np.uint8)).sum() == 0
    assert edge_map(np.zeros((64, 64), dtype=np.uint8)).sum() == 0


def test_thresholds_follow_the_median():
    image = np.full((10, 10), 100, dtype=np.uint8)
    assert np.allclose(canny_thresholds(image, 0.33), (67.0, 133.0))
    assert canny_thresholds(np.full((4, 4), 250, dtype=np.uint8), 0.33)[1] == 255.0
    assert canny_thresholds(np.zeros((4, 4), dtype=np.uint8), 0.5) == (0.0, 0.0)
