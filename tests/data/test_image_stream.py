"""Streamed image prep: the files hold the bytes of np.save over the stacked per-image results, colour 'auto'
widens gray rows written before the first colour image, and errors keep their messages and precedence."""

import io
import json

import cv2
import numpy as np
import pandas as pd
import pytest

from faultcli.data.crops import apply_crop, crop_rule_for
from faultcli.data.edges import edge_map
from faultcli.data.image_splits import channel_stats
from faultcli.data.images import load_image, prepare_images, resize
from faultcli.data.readers.masks import read_mask
from faultcli.errors import DataError
from faultcli.progress import NullReporter
from tests.data.test_images import _write, cfg


def _saved(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _mixed_set(root, colour_every=3):
    """Two classes of 20×22 PNGs: class a gray (listed first), every third image of class b in colour."""
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        for i in range(9):
            gray = rng.integers(0, 255, (20, 22), dtype=np.uint8)
            colour = name == "b" and i % colour_every == 0
            _write(root / name / f"{i}.png", np.stack([gray, np.roll(gray, 3), 255 - gray], 2) if colour else gray)
    return root


def _reference_images(ds, root, color, image_size=None, crops=None):
    """np.stack of load_image over the kept items, gray ones widened when any is colour (the rule of 'auto')."""
    images = [
        load_image(root / f, color, crop_rule_for(label or None, crops or {}), image_size)
        for f, label in zip(ds.items["file"], ds.items["label"], strict=True)
    ]
    if any(im.shape[2] == 3 for im in images):
        images = [np.repeat(im, 3, axis=2) if im.shape[2] == 1 else im for im in images]
    return np.stack(images)


@pytest.mark.parametrize("color", ["auto", "gray", "rgb"])
def test_streamed_files_equal_np_save_of_the_stacked_images_and_edges(tmp_path, color):
    root = _mixed_set(tmp_path / "set")
    ds = prepare_images(cfg(root, tmp_path, color=color, edges=True, image_size=[16, 12]), "image-classification")
    images = _reference_images(ds, root, color, [16, 12])
    assert (ds.path / "images.npy").read_bytes() == _saved(images)
    edges = np.stack([edge_map(im, ds.manifest["edge_sigma"]) for im in images])
    assert (ds.path / "edges.npy").read_bytes() == _saved(edges)
    assert ds.manifest["channels"] == (1 if color == "gray" else 3)
    train = ds.indices("train")
    assert ds.manifest["norm"] == channel_stats(images, train)
    assert not list(ds.path.glob("*.gray.npy"))  # the widening's scratch file is gone


def test_auto_widens_rows_written_before_the_first_colour_image(tmp_path):
    root = _mixed_set(tmp_path / "set", colour_every=100)  # b/0.png: the only colour image, after all of a/
    ds = prepare_images(cfg(root, tmp_path, color="auto"), "image-classification", NullReporter())
    assert ds.images.shape == (18, 20, 22, 3)
    first = cv2.imread(str(root / "a" / "0.png"), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(ds.images[0], np.repeat(first[:, :, None], 3, axis=2))
    assert ds.manifest["color"] == "rgb"


def test_auto_all_gray_stays_one_channel(tmp_path):
    root = _mixed_set(tmp_path / "set", colour_every=100)
    (root / "b" / "0.png").unlink()
    ds = prepare_images(cfg(root, tmp_path, color="auto"), "image-classification", NullReporter())
    assert ds.images.shape[3] == 1 and ds.manifest["color"] == "gray"


def test_segmentation_masks_equal_np_save_of_the_stacked_masks(tmp_path):
    rng = np.random.default_rng(1)
    root = tmp_path / "seg"
    for prefix in ("In", "Pa"):
        for n in range(1, 8):
            _write(root / "images" / f"{prefix}_{n}.png", rng.integers(0, 255, (24, 26), dtype=np.uint8))
            mask = np.zeros((24, 26), np.uint8)
            mask[2 + n : 9 + n, 3:12] = 255
            _write(root / "masks" / f"{prefix}_{n}.png", mask)
    config = cfg(root, tmp_path, image_dir="images", mask_dir="masks", label_from="prefix", image_size=[16, 16])
    ds = prepare_images(config, "segmentation", NullReporter())
    masks = []
    for f, index in zip(ds.items["file"], ds.items["class_index"], strict=True):
        full = np.zeros((2, 24, 26), np.uint8)
        full[index] = read_mask(root / "masks" / f.split("/")[-1], (24, 26))
        masks.append(np.stack([resize(apply_crop(m, "none"), [16, 16], nearest=True) for m in full]))
    assert (ds.path / "masks.npy").read_bytes() == _saved(np.stack(masks))
    assert (ds.path / "images.npy").read_bytes() == _saved(_reference_images(ds, root, "auto", [16, 16]))


def test_size_error_names_the_first_image_and_the_first_odd_one(tmp_path):
    root = _mixed_set(tmp_path / "set")
    _write(root / "b" / "9.png", np.zeros((30, 31), np.uint8))
    _write(root / "b" / "90.png", np.zeros((10, 11), np.uint8))
    with pytest.raises(DataError) as err:
        prepare_images(cfg(root, tmp_path), "image-classification", NullReporter())
    assert str(err.value) == (
        "images have different sizes (a/0.png is 20×22, b/9.png is 30×31); set data.image_size = [20, 22] "
        "to resize them all"
    )
    assert not list((tmp_path / "cache").rglob("*.npy"))  # the staging folder went with the error


def test_an_undecodable_file_after_an_odd_size_is_still_the_error_shown(tmp_path):
    root = _mixed_set(tmp_path / "set")
    _write(root / "b" / "90.png", np.zeros((10, 11), np.uint8))
    (root / "b" / "91.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"91\.png cannot be decoded; fix or remove it"):
        prepare_images(cfg(root, tmp_path), "image-classification", NullReporter())


def test_allow_corrupt_skips_the_file_and_reports_it(tmp_path):
    root = _mixed_set(tmp_path / "set")
    (root / "a" / "10.png").write_bytes(b"not a png")
    ds = prepare_images(cfg(root, tmp_path, allow_corrupt=True, edges=True), "image-classification")
    assert ds.manifest["report"]["undecodable"] == ["a/10.png"]
    assert len(ds.items) == ds.images.shape[0] == ds.edges.shape[0] == 18
    items = pd.read_csv(ds.path / "items.csv")
    assert "a/10.png" not in set(items["file"])
    assert json.loads((ds.path / "manifest.json").read_text())["image_size"] == [20, 22]


def test_nothing_decodable_is_one_error(tmp_path):
    root = tmp_path / "set"
    for name in ("a", "b"):
        for i in range(3):
            (root / name).mkdir(parents=True, exist_ok=True)
            (root / name / f"{i}.png").write_bytes(b"junk")
    with pytest.raises(DataError, match="no image could be decoded"):
        prepare_images(cfg(root, tmp_path, allow_corrupt=True), "image-classification", NullReporter())


def test_row_readers_match_the_memory_maps(tmp_path):
    root = _mixed_set(tmp_path / "set")
    ds = prepare_images(cfg(root, tmp_path, edges=True), "image-classification", NullReporter())
    rows = np.array([5, 0, 17, 5])
    assert np.array_equal(ds.rows("images")[rows], ds.images[rows])
    assert np.array_equal(ds.rows("edges")[rows], ds.edges[rows])
    assert ds.rows("masks") is None
    with pytest.raises(ValueError, match="images, edges or masks"):
        ds.rows("signals")
