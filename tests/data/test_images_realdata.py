"""Small slices (~20-60 images) of the real image sets, read through the shipped recipes' settings."""

from pathlib import Path

import numpy as np
import pytest

from faultcli.config import load_config
from faultcli.data.images import prepare_images
from faultcli.progress import NullReporter

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
RECIPES = Path(__file__).resolve().parents[2] / "recipes"
pytestmark = [pytest.mark.realdata, pytest.mark.skipif(not DATA.exists(), reason="../shared/data is absent")]


def _recipe(name, tmp_path, *overrides):
    sets = [f"data.cache_dir={tmp_path / 'cache'}", *overrides]
    cfg = load_config(RECIPES / name, sets)
    cfg.data.root = str(DATA / Path(cfg.data.root).name)  # the recipes' roots are relative to the repo root
    return cfg


def test_xsdd_slice_with_spaces_and_odd_sizes(tmp_path):
    # 32 images (*10.* and *15.*) + the two that are not 128×128; kfold needs more, so a stratified split
    cfg = _recipe(
        "xsdd.toml",
        tmp_path,
        'data.include=["*1[05].*", "*/3048.jpg", "*/2041.jpg"]',
        "data.split=stratified",
        "data.fractions=[0.5, 0.0, 0.5]",
    )
    ds = prepare_images(cfg.data, cfg.task, NullReporter())
    assert len(ds.classes) == 7 and "oxide scale of plate system" in ds.classes
    assert ds.images.shape == (34, 128, 128, 3) and ds.edges.shape == (34, 128, 128)
    odd = ds.items[ds.items["file"] == "iron sheet ash/3048.jpg"].iloc[0]
    assert (odd["height"], odd["width"]) == (128, 122)  # the README writes width × height
    assert not any(ds.manifest["report"].values())


def test_neu_slice_with_voc_boxes(tmp_path):
    # 4 images per class; the recipe's 8 % validation share needs more images than that
    cfg = _recipe(
        "neu.toml", tmp_path, 'data.include=["*_1[0-3].jpg"]', "data.edges=false", "data.fractions=[0.5, 0.0, 0.5]"
    )
    ds = prepare_images(cfg.data, cfg.task, NullReporter())
    assert ds.classes == ["crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches"]
    assert ds.images.shape == (24, 200, 200, 1)
    assert ds.manifest["counts"]["test"] == dict.fromkeys(ds.classes, 2)
    boxes = ds.manifest["boxes"]
    assert len(boxes) == 24 and boxes["images/patches_10.jpg"][0]["label"] == "patches"
    # annotations of images left out by data.include are not orphans
    assert ds.manifest["report"]["labels_without_files"] == []


def test_sd_saliency_slice_masks(tmp_path):
    cfg = _recipe("sd-saliency.toml", tmp_path, 'data.include=["*_1[0-5].bmp"]', "data.fractions=[0.5, 0.0, 0.5]")
    ds = prepare_images(cfg.data, cfg.task, NullReporter())
    assert ds.classes == ["inclusion", "patches", "scratches"]
    assert ds.images.shape == (18, 192, 192, 1) and ds.masks.shape == (18, 3, 192, 192)
    k = ds.items["class_index"].to_numpy()
    area = ds.masks.sum(axis=(2, 3))
    assert (area[np.arange(18), k] > 0).all()  # each mask sits in its class's channel
    assert area.sum() == area[np.arange(18), k].sum()
    assert ds.manifest["report"]["labels_without_files"] == []
