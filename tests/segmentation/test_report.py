"""The evaluation report: figures in reading order in metrics.json and report.md, saliency measures on
the images with a defect only, per-image rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from faultcli.segmentation.postprocess import PostProcess
from faultcli.segmentation.report import FIGURES, evaluate_images
from faultcli.segmentation.saliency import SALIENCY_KEYS


class Bright(nn.Module):
    """Class 'a' where the image is bright, class 'b' nowhere."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = 40.0 * (x[:, :1] - 0.5)
        return torch.cat([a, torch.full_like(a, -40.0)], dim=1)


def sample_set():
    images = [np.full((16, 16, 1), 30, np.uint8) for _ in range(3)]
    masks = [np.zeros((2, 16, 16), np.uint8) for _ in range(3)]
    images[0][2:8, 2:8] = 220  # a found
    masks[0][0, 2:8, 2:8] = 1
    masks[1][1, 4:10, 4:10] = 1  # b missed
    # image 2: no defect, none predicted
    return images, masks


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    images, masks = sample_set()
    detail = evaluate_images(
        Bright(),
        images,
        masks,
        ["x.png", "y.png", "z.png"],
        ["a", "b"],
        PostProcess.default(2),
        out,
        mean=[0.0],
        std=[1.0],
        tile=(16, 16),
    )
    return out, detail


def test_metrics_json_lists_the_figures_in_reading_order_with_their_meaning(report):
    out, detail = report
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["headline"] == list(FIGURES) and set(saved["definitions"]) == set(FIGURES)
    assert saved["headline"][:2] == ["dice_pos", "iou_pos"] and saved["headline"][-3] == "dice_all_images"
    # one image of two with a defect is segmented perfectly, the other missed
    assert saved["dice_pos"] == pytest.approx(0.5) and saved["defect_dice"] == pytest.approx(0.5)
    assert saved["detect_recall"] == 0.5 and saved["detect_precision"] == 1.0
    # the clean image counts 1 in the all-images figures only
    assert saved["defect_dice_all_images"] == pytest.approx(2 / 3)
    assert saved["dice_all_images"] == pytest.approx(5 / 6) == saved["dice"]  # 4 of 6 pairs empty, 1 missed
    assert saved["n_defect_images"] == 2 and saved["saliency_images"] == 2
    assert saved["mae"] == pytest.approx((0 + 36 / 256) / 2, abs=1e-3)
    assert saved["weighted_f"] == pytest.approx(0.5, abs=1e-3)  # 1 for the found defect, 0 for the missed
    assert all(k in saved for k in SALIENCY_KEYS) and detail["dice_pos"] == saved["dice_pos"]


def test_report_md_reads_defect_figures_first_and_names_the_all_images_dice(report):
    out, _ = report
    text = (out / "report.md").read_text()
    order = [text.index(s) for s in ("## Defect masks", "## Per class", "## Saliency measures", "## All images")]
    assert order == sorted(order)
    assert text.index("`dice_pos`") < text.index("`defect_dice`") < text.index("`detect_recall`")
    assert text.index("`detect_recall`") < text.index("`weighted_f`") < text.index("`dice_all_images`")
    assert "Kaggle Severstal" in text and "67% of the (image, class) pairs here are empty in truth" in text


def test_per_image_rows_leave_saliency_empty_without_a_defect(report):
    out, _ = report
    table = pd.read_csv(out / "per_image.csv")
    assert list(table["image"]) == ["x.png", "y.png", "z.png"]
    assert table["weighted_f"].isna().tolist() == [False, False, True]
    assert table["defect_dice"].tolist() == [1.0, 0.0, 1.0]
