"""prepare_images for segmentation: mask folders (one channel per class) and RLE CSVs."""

import cv2
import numpy as np
import pytest

from faultcli.config.schema import DataConfig
from faultcli.data.images import prepare_images
from faultcli.data.rle import encode
from faultcli.errors import ConfigError, DataError
from faultcli.progress import NullReporter

PREFIX_MAP = {"In": "inclusion", "Pa": "patches", "Sc": "scratches"}


def _write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)


def saliency_set(root, per_class=5, size=(20, 20)):
    """images/{In,Pa,Sc}_<n>.bmp and masks/… .png (0/255) with a square whose place depends on n."""
    for prefix in PREFIX_MAP:
        for n in range(1, per_class + 1):
            image = np.full(size, 60, dtype=np.uint8)
            mask = np.zeros(size, dtype=np.uint8)
            mask[n : n + 4, 2:6] = 255
            image[mask > 0] = 200
            _write(root / "images" / f"{prefix}_{n}.bmp", image)
            _write(root / "masks" / f"{prefix}_{n}.png", mask)
    return root


def cfg(root, tmp_path, **kw):
    base = {
        "root": str(root),
        "cache_dir": str(tmp_path / "cache"),
        "split": "stratified",
        "fractions": [0.6, 0.2, 0.2],
        "label_from": "prefix",
        "label_map": PREFIX_MAP,
    }
    return DataConfig(**{**base, **kw})


def prep(data_cfg):
    return prepare_images(data_cfg, "segmentation", NullReporter())


def test_masks_go_to_the_channel_of_their_class(tmp_path):
    root = saliency_set(tmp_path / "sd")
    _write(root / "masks" / "Sc_99.png", np.zeros((20, 20), dtype=np.uint8))  # a mask without its image
    ds = prep(cfg(root, tmp_path))
    assert ds.classes == ["inclusion", "patches", "scratches"]
    assert ds.masks.shape == (15, 3, 20, 20) and ds.masks.dtype == np.uint8
    assert set(np.unique(ds.masks).tolist()) == {0, 1}
    for row, item in ds.items.iterrows():
        k = ds.classes.index(item["label"])
        assert ds.masks[row, k].sum() == 16
        assert ds.masks[row].sum() == 16  # the other channels are empty
    assert ds.manifest["report"]["labels_without_files"] == ["masks/Sc_99.png"]
    assert ds.manifest["counts"]["test"] == {"inclusion": 1, "patches": 1, "scratches": 1}
    assert ds.items["file"].iloc[0].startswith("images/")


def test_masks_follow_crop_and_resize(tmp_path):
    root = saliency_set(tmp_path / "sd")
    ds = prep(cfg(root, tmp_path, image_size=[10, 10], crops={"*": "left:0.5"}))
    assert ds.images.shape == (15, 10, 10, 1) and ds.masks.shape == (15, 3, 10, 10)
    row = ds.items.index[ds.items["file"] == "images/In_1.bmp"][0]
    # the square (rows 1..4, cols 2..5) lies in the kept left 20×10 half; rows are halved, columns kept
    rows, cols = np.nonzero(ds.masks[row, 0])
    assert set(cols.tolist()) == {2, 3, 4, 5} and set(rows.tolist()) <= {0, 1, 2, 3} and len(set(rows)) == 2
    assert (ds.images[row, ..., 0][ds.masks[row, 0] > 0] > 120).all()  # the mask sits on the bright square


def test_image_without_mask_is_an_error(tmp_path):
    root = saliency_set(tmp_path / "sd")
    _write(root / "images" / "Pa_77.bmp", np.zeros((20, 20), dtype=np.uint8))
    with pytest.raises(DataError, match="Pa_77.bmp"):
        prep(cfg(root, tmp_path))
    prep(cfg(root, tmp_path, exclude=["Pa_77.bmp"]))  # the fix the message suggests


def test_mask_of_another_size_or_with_grey_values_is_an_error(tmp_path):
    root = saliency_set(tmp_path / "sd")
    _write(root / "masks" / "In_2.png", np.zeros((20, 21), dtype=np.uint8))
    with pytest.raises(DataError, match="In_2.png is 20×21 but its image is 20×20"):
        prep(cfg(root, tmp_path))
    soft = np.zeros((20, 20), dtype=np.uint8)
    soft[3, 3] = 17
    _write(root / "masks" / "In_2.png", soft)
    with pytest.raises(DataError, match="In_2.png holds values"):
        prep(cfg(root, tmp_path))


def test_single_defect_class_from_masks(tmp_path):
    root = saliency_set(tmp_path / "sd")
    ds = prep(cfg(root, tmp_path, label_from="mask", fractions=[0.8, 0.0, 0.2]))
    assert ds.classes == ["defect"] and ds.masks.shape[1] == 1 and (ds.masks.sum(axis=(1, 2, 3)) == 16).all()


def _severstal(root, tmp_path, rows_extra=()):
    masks = {}
    for i in range(8):
        _write(root / "train_images" / f"s{i}.jpg", np.full((16, 40), 100, dtype=np.uint8))
        mask = np.zeros((16, 40), dtype=np.uint8)
        mask[i : i + 3, 5 : 10 + i] = 1
        masks[i] = mask
    lines = ["ImageId,ClassId,EncodedPixels"]
    lines += [f"s{i}.jpg,{1 + i % 2},{encode(masks[i])}" for i in range(6)]  # s6, s7: no row, no defect
    lines += ["s0.jpg,3,"]  # an empty mask row
    lines += list(rows_extra)
    (tmp_path / "train.csv").write_text("\n".join(lines) + "\n")
    return masks


def test_rle_csv_masks_and_report(tmp_path):
    root = tmp_path / "sev"
    masks = _severstal(root, tmp_path, ["ghost.jpg,1,1 4"])
    data = cfg(
        root,
        tmp_path,
        label_from="mask",
        label_map={},
        rle_csv=str(tmp_path / "train.csv"),
        image_dir="train_images",
        fractions=[0.5, 0.0, 0.5],
    )
    ds = prep(data)
    assert ds.classes == ["1", "2", "3"] and ds.masks.shape == (8, 3, 16, 40)
    for i in range(6):
        row = ds.items.index[ds.items["file"] == f"train_images/s{i}.jpg"][0]
        assert np.array_equal(ds.masks[row, i % 2], masks[i])
        assert ds.items["label"][row] == str(1 + i % 2)
    clean = ds.items.index[ds.items["file"] == "train_images/s7.jpg"][0]
    assert ds.items["class_index"][clean] == -1 and ds.masks[clean].sum() == 0
    assert ds.manifest["report"]["labels_without_files"] == ["train.csv: ghost.jpg"]
    assert ds.manifest["report"]["files_without_labels"] == ["train_images/s6.jpg", "train_images/s7.jpg"]
    assert ds.manifest["counts"]["train"]["unlabelled"] + ds.manifest["counts"]["test"]["unlabelled"] == 2


def test_rle_errors(tmp_path):
    root = tmp_path / "sev"
    _severstal(root, tmp_path, ["s1.jpg,2,1 2 3"])
    data = cfg(
        root,
        tmp_path,
        label_from="mask",
        label_map={},
        rle_csv=str(tmp_path / "train.csv"),
        image_dir="train_images",
        fractions=[0.5, 0.0, 0.5],
    )
    with pytest.raises(DataError, match="RLE of train_images/s1.jpg class 2.*odd"):
        prep(data)
    _severstal(root, tmp_path, ["s1.jpg,2,600 100"])
    with pytest.raises(DataError, match="past the image"):
        prep(data)
    with pytest.raises(ConfigError, match="label_from = 'mask'"):
        prep(cfg(root, tmp_path, rle_csv=str(tmp_path / "train.csv")))
