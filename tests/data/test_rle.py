"""Severstal run-length encoding: exact round trips, the column-major 1-based convention, bad strings."""

import numpy as np
import pytest

from faultcli.data.rle import decode, encode
from faultcli.errors import DataError


def test_encode_is_column_major_and_one_based():
    mask = np.zeros((3, 4), dtype=np.uint8)
    mask[1, 0] = 1  # second pixel of the first column
    mask[0:3, 2] = 1  # the whole third column: pixels 7, 8, 9
    assert encode(mask) == "2 1 7 3"


def test_run_crossing_columns():
    mask = np.zeros((2, 3), dtype=np.uint8)
    mask[1, 0] = mask[0, 1] = 1  # consecutive in column-major order
    assert encode(mask) == "2 2"
    assert np.array_equal(decode("2 2", 2, 3), mask)


def test_empty_mask_is_empty_string():
    assert encode(np.zeros((5, 7))) == ""
    assert decode("", 5, 7).sum() == 0
    assert decode(float("nan"), 5, 7).shape == (5, 7)  # pandas' empty cell


@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (31, 64), (256, 1600)])
def test_round_trip_random_masks(shape):
    rng = np.random.default_rng(sum(shape))
    for density in (0.02, 0.5, 0.98):
        mask = (rng.random(shape) < density).astype(np.uint8)
        restored = decode(encode(mask), *shape)
        assert restored.dtype == np.uint8
        assert np.array_equal(restored, mask)


def test_round_trip_full_and_blob_on_severstal_size():
    mask = np.zeros((256, 1600), dtype=np.uint8)
    mask[100:180, 300:900] = 1
    mask[:, -1] = 1  # the last pixel of the image belongs to a run
    text = encode(mask)
    assert text.split()[-2:] == [str(256 * 1599 + 1), "256"]
    assert np.array_equal(decode(text, 256, 1600), mask)
    full = np.ones((256, 1600), dtype=bool)
    assert encode(full) == f"1 {256 * 1600}"


def test_odd_count_is_an_error():
    with pytest.raises(DataError, match="odd"):
        decode("1 3 7", 4, 4)


def test_run_past_the_image_is_an_error():
    with pytest.raises(DataError, match="past the image"):
        decode("10 8", 4, 4)  # pixels 10..17 of 16
    decode("10 7", 4, 4)  # ends exactly at pixel 16


def test_non_integer_and_zero_start_are_errors():
    with pytest.raises(DataError, match="non-integers"):
        decode("1 a", 4, 4)
    with pytest.raises(DataError, match="1-based"):
        decode("0 2", 4, 4)


def test_error_names_where():
    with pytest.raises(DataError, match="train.csv row 3"):
        decode("1 2 3", 4, 4, where="train.csv row 3")
