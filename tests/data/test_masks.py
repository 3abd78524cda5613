"""Mask folders and RLE CSVs: pairing, value and size checks, CSV layouts."""

import cv2
import numpy as np
import pytest

from faultcli.data.readers.masks import pair_masks, read_mask, read_rle_csv
from faultcli.errors import DataError


def _write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)


def test_read_mask_accepts_0_255_and_0_1(tmp_path):
    mask = np.zeros((20, 30), dtype=np.uint8)
    mask[5:10, 3:8] = 255
    _write(tmp_path / "m255.png", mask)
    _write(tmp_path / "m1.png", mask // 255)
    for name in ("m255.png", "m1.png"):
        out = read_mask(tmp_path / name, (20, 30))
        assert out.dtype == np.uint8 and out.sum() == 25 and out.max() == 1


def test_read_mask_rejects_other_values_and_sizes(tmp_path):
    mask = np.zeros((20, 30), dtype=np.uint8)
    mask[0, 0] = 128
    _write(tmp_path / "soft.png", mask)
    with pytest.raises(DataError, match="soft.png.*0/255"):
        read_mask(tmp_path / "soft.png", (20, 30))
    _write(tmp_path / "ok.png", np.zeros((20, 30), dtype=np.uint8))
    with pytest.raises(DataError, match="ok.png is 20×30 but its image is 20×31"):
        read_mask(tmp_path / "ok.png", (20, 31))
    (tmp_path / "junk.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="junk.png"):
        read_mask(tmp_path / "junk.png", (20, 30))


def test_read_mask_gray_stored_as_color(tmp_path):
    mask = np.zeros((8, 8, 3), dtype=np.uint8)
    mask[2:4, 2:4] = 255
    _write(tmp_path / "c.png", mask)
    assert read_mask(tmp_path / "c.png", (8, 8)).sum() == 4


def test_pair_masks_both_directions(tmp_path):
    image = np.zeros((8, 8), dtype=np.uint8)
    for name in ("In_1.bmp", "In_2.bmp", "Pa_1.bmp"):
        _write(tmp_path / "images" / name, image)
    for name in ("In_1.png", "Pa_1.png", "Sc_9.png"):
        _write(tmp_path / "masks" / name, image)
    pairs = pair_masks(tmp_path / "images", tmp_path / "masks")
    assert [(i.name, m.name) for i, m in pairs.pairs] == [("In_1.bmp", "In_1.png"), ("Pa_1.bmp", "Pa_1.png")]
    assert pairs.images_without_masks == ["In_2.bmp"]
    assert pairs.masks_without_images == ["Sc_9.png"]
    # a mask whose image is only excluded is not an orphan
    pairs = pair_masks(tmp_path / "images", tmp_path / "masks", exclude=["Pa_*"])
    assert pairs.masks_without_images == ["Sc_9.png"]
    with pytest.raises(DataError, match="data.mask_dir"):
        pair_masks(tmp_path / "images", tmp_path / "nothing")


def test_read_rle_csv_layouts(tmp_path):
    new = tmp_path / "new.csv"
    new.write_text("ImageId,ClassId,EncodedPixels\na.jpg,1,1 3\na.jpg,3,\nb.jpg,2,5 1 9 2\n")
    rows = read_rle_csv(new)
    assert [(r.image, r.class_id, r.rle) for r in rows] == [
        ("a.jpg", "1", "1 3"),
        ("a.jpg", "3", ""),
        ("b.jpg", "2", "5 1 9 2"),
    ]
    old = tmp_path / "old.csv"
    old.write_text("ImageId_ClassId,EncodedPixels\na.jpg_1,1 3\na.jpg_2,\n")
    assert [(r.image, r.class_id) for r in read_rle_csv(old)] == [("a.jpg", "1"), ("a.jpg", "2")]
    bad = tmp_path / "bad.csv"
    bad.write_text("image,mask\na,1 2\n")
    with pytest.raises(DataError, match="ImageId,ClassId,EncodedPixels"):
        read_rle_csv(bad)
