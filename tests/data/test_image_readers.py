"""Image files: finding, decoding, gray detection and labels from folder / prefix / regex."""

import cv2
import numpy as np
import pytest

from faultcli.data.readers.images import (
    decode_image,
    find_images,
    is_gray,
    prefix_label,
    raw_label,
    read_image_folder,
    to_color,
)
from faultcli.errors import DataError


def _write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("crazing_12.jpg", "crazing"),
        ("rolled-in_scale_3.jpg", "rolled-in_scale"),
        ("pitted_surface_300.png", "pitted_surface"),
        ("In_1.bmp", "In"),
        ("noindex.jpg", None),
        ("_5.jpg", None),
    ],
)
def test_prefix_label(name, label):
    assert prefix_label(name) == label


def test_raw_label_rules():
    assert raw_label("slag inclusion/1001.jpg", "folder") == "slag inclusion"
    assert raw_label("top.jpg", "folder") is None
    assert raw_label("a/crazing_1.jpg", "prefix") == "crazing"
    assert raw_label("run3/cam_B_004.png", "regex", r"cam_(?P<label>[A-Z])_") == "B"
    assert raw_label("x.png", "regex", r"cam_(?P<label>[A-Z])_") is None


def test_folder_reader_with_spaces_and_mixed_extensions(tmp_path):
    image = np.full((16, 16, 3), 90, dtype=np.uint8)
    _write(tmp_path / "slag inclusion" / "1.jpg", image)
    _write(tmp_path / "slag inclusion" / "2.png", image)
    _write(tmp_path / "red iron" / "3.JPG", image)
    (tmp_path / "red iron" / "notes.txt").write_text("not an image")
    listing = read_image_folder(tmp_path, "folder", label_map={"red iron": "red_iron"})
    assert [listing.rel(p) for p in listing.files] == ["red iron/3.JPG", "slag inclusion/1.jpg", "slag inclusion/2.png"]
    assert listing.labels == ["red_iron", "slag inclusion", "slag inclusion"]


def test_include_exclude(tmp_path):
    for name in ("a_1.png", "a_2.png", "b_1.png"):
        _write(tmp_path / "imgs" / name, np.zeros((4, 4), dtype=np.uint8))
    assert [p.name for p in find_images(tmp_path, include=["a_*"])] == ["a_1.png", "a_2.png"]
    assert [p.name for p in find_images(tmp_path, exclude=["imgs/a_1.png"])] == ["a_2.png", "b_1.png"]


def test_empty_and_missing_folders(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_image_folder(tmp_path / "nope", "folder")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no images"):
        read_image_folder(tmp_path / "empty", "folder")
    _write(tmp_path / "set" / "cat" / "1.png", np.zeros((4, 4), dtype=np.uint8))
    (tmp_path / "set" / "dog").mkdir()
    with pytest.raises(DataError, match="class folder .*dog holds no images"):
        read_image_folder(tmp_path / "set", "folder")


def test_decode_gray_rgb_and_corrupt(tmp_path):
    rgb = np.zeros((6, 5, 3), dtype=np.uint8)
    rgb[..., 2] = 200  # red in BGR order
    _write(tmp_path / "c.png", rgb)
    out = decode_image(tmp_path / "c.png")
    assert out.shape == (6, 5, 3) and out[0, 0].tolist() == [200, 0, 0]  # decoded as RGB
    assert not is_gray(out)
    _write(tmp_path / "g.png", np.full((6, 5), 7, dtype=np.uint8))
    gray = decode_image(tmp_path / "g.png")
    assert gray.shape == (6, 5) and is_gray(gray)
    assert is_gray(np.repeat(gray[:, :, None], 3, axis=2))
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8garbage")
    assert decode_image(tmp_path / "bad.jpg") is None
    (tmp_path / "zero.png").write_bytes(b"")
    assert decode_image(tmp_path / "zero.png") is None


def test_to_color():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert to_color(gray, "gray").shape == (3, 4, 1)
    rgb = to_color(gray, "rgb")
    assert rgb.shape == (3, 4, 3) and (rgb[..., 0] == gray).all()
    assert np.array_equal(to_color(rgb, "gray")[..., 0], gray)
