"""Figures of predicted vs true masks (hand-counted), and the files: mask PNGs, RLE CSV, overlays."""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
import pytest

from faultcli.data.rle import decode
from faultcli.segmentation.figures import segmentation_figures
from faultcli.segmentation.outputs import overlay_png, write_mask_pngs, write_rle_csv


def hand_example():
    """Two images, classes a and b (4 × 4).

    image 0: a true 4 px, predicted 2 of them → Dice 2·2/6 = 2/3, IoU 2/4; b empty / empty → 1, 1
    image 1: a empty, predicted 1 px → 0, 0; b true 2 px, predicted the same → 1, 1
    """
    pred = [np.zeros((2, 4, 4), np.uint8), np.zeros((2, 4, 4), np.uint8)]
    true = [np.zeros((2, 4, 4), np.uint8), np.zeros((2, 4, 4), np.uint8)]
    true[0][0, 0, :] = 1
    pred[0][0, 0, :2] = 1
    pred[1][0, 3, 3] = 1
    true[1][1, 2, :2] = 1
    pred[1][1, 2, :2] = 1
    return pred, true


def test_figures_against_hand_counts():
    pred, true = hand_example()
    f = segmentation_figures(pred, true, ["a", "b"])
    assert f["dice"] == pytest.approx((2 / 3 + 1 + 0 + 1) / 4)
    assert f["iou"] == pytest.approx((0.5 + 1 + 0 + 1) / 4)
    # only pairs whose truth is not empty: (0, a) and (1, b)
    assert f["dice_pos"] == pytest.approx((2 / 3 + 1) / 2)
    a, b = f["per_class"]["a"], f["per_class"]["b"]
    assert a["dice"] == pytest.approx(1 / 3) and a["dice_pos"] == pytest.approx(2 / 3)
    assert a["images_with_class"] == 1 and b["images_with_class"] == 1
    # class a is predicted on both images but present on one: precision 1/2, recall 1
    assert (a["detect_precision"], a["detect_recall"]) == (0.5, 1.0)
    assert (b["detect_precision"], b["detect_recall"]) == (1.0, 1.0)
    assert (f["detect_precision"], f["detect_recall"]) == (1.0, 1.0)
    # classes ignored: image 0 union true 4 px, predicted 2 of them → 2/3; image 1 true 2 px, predicted
    # the same 2 plus 1 stray px → 2·2/5 = 0.8, IoU 2/3
    assert f["defect_dice"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert f["defect_iou"] == pytest.approx((0.5 + 2 / 3) / 2)
    assert f["dice_all_images"] == f["dice"] and f["iou_all_images"] == f["iou"]
    assert f["dice_pos_class_mean"] == pytest.approx((2 / 3 + 1) / 2)
    assert (f["n_images"], f["n_defect_images"], f["empty_pairs"]) == (2, 2, 0.5)


def test_empty_channels_inflate_the_all_images_dice_but_not_the_defect_figures():
    """Three classes, one per image (as SD-saliency-900): a model that predicts nothing at all."""
    true = [np.zeros((3, 6, 6), np.uint8) for _ in range(3)]
    for k, t in enumerate(true):
        t[k, 1:4, 1:4] = 1
    pred = [np.zeros_like(t) for t in true]
    f = segmentation_figures(pred, true, ["a", "b", "c"])
    # two of each image's three channels are empty in truth and prediction: each scores 1
    assert f["dice_all_images"] == pytest.approx(2 / 3) and f["empty_pairs"] == pytest.approx(2 / 3)
    assert f["dice_pos"] == 0.0 and f["defect_dice"] == 0.0 and f["defect_dice_all_images"] == 0.0
    assert f["detect_recall"] == 0.0 and np.isnan(f["detect_precision"])  # nothing predicted


def test_defect_figures_over_all_images_count_a_clean_image_predicted_clean_as_1():
    true = [np.zeros((2, 4, 4), np.uint8), np.zeros((2, 4, 4), np.uint8)]
    true[0][1, :2, :2] = 1  # image 0: a defect of class b, image 1: no defect
    pred = [t.copy() for t in true]
    pred[0][0, :2, :2] = 1  # right place, wrong class: the defect mask is still right
    f = segmentation_figures(pred, true, ["a", "b"])
    assert f["defect_dice"] == 1.0 and f["defect_dice_all_images"] == 1.0 and f["n_defect_images"] == 1
    assert f["per_class"]["a"]["detect_precision"] == 0.0 and f["dice_pos"] == pytest.approx(1.0)
    pred[1][0, 3, 3] = 1  # a false defect on the clean image
    f = segmentation_figures(pred, true, ["a", "b"])
    assert f["defect_dice"] == 1.0 and f["defect_dice_all_images"] == pytest.approx(0.5)
    assert (f["detect_precision"], f["detect_recall"]) == (0.5, 1.0)


def test_rle_csv_decodes_back_to_the_masks(tmp_path):
    rng = np.random.default_rng(0)
    masks = [(rng.random((2, 9, 13)) > 0.6).astype(np.uint8) for _ in range(3)]
    masks[1][0] = 0  # an empty mask is an empty EncodedPixels
    write_rle_csv(tmp_path / "p.csv", ["x.png", "y.png", "z.png"], masks, ["1", "2"])
    table = pd.read_csv(tmp_path / "p.csv", dtype=str, keep_default_na=False)
    assert list(table.columns) == ["ImageId", "ClassId", "EncodedPixels"] and len(table) == 6
    for row in table.itertuples():
        image = ["x.png", "y.png", "z.png"].index(row.ImageId)
        k = ["1", "2"].index(row.ClassId)
        assert np.array_equal(decode(row.EncodedPixels, 9, 13), masks[image][k])
    assert table.loc[(table.ImageId == "y.png") & (table.ClassId == "1"), "EncodedPixels"].item() == ""


def test_mask_pngs_are_written_per_class_as_0_255(tmp_path):
    masks = np.zeros((2, 5, 6), np.uint8)
    masks[1, 1:3, 2:4] = 1
    write_mask_pngs(tmp_path, "img_1", masks, ["a", "b"])
    b = cv2.imread(str(tmp_path / "b" / "img_1.png"), cv2.IMREAD_UNCHANGED)
    assert b.shape == (5, 6) and set(np.unique(b)) == {0, 255}
    assert np.array_equal(b > 0, masks[1] > 0)
    assert not cv2.imread(str(tmp_path / "a" / "img_1.png"), cv2.IMREAD_UNCHANGED).any()


@pytest.mark.parametrize("with_truth", [True, False])
def test_overlay_has_one_panel_per_view(tmp_path, with_truth):
    image = np.full((200, 200, 1), 90, np.uint8)
    masks = np.zeros((1, 200, 200), np.uint8)
    masks[0, 50:80, 50:80] = 1
    path = overlay_png(tmp_path / "o.png", image, masks, masks if with_truth else None, ["a"])
    out = cv2.imread(str(path))
    panels = 3 if with_truth else 2
    assert out.shape[1] == panels * 200 + (panels - 1) * 4
    # the predicted panel shows the class colour on the mask, the image panel stays gray
    last = out[:200, -200:]
    assert not np.array_equal(last[60, 60], last[150, 150])
    assert np.array_equal(out[60, 60], out[150, 150])
