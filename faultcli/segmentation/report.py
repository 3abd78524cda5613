"""The segmentation evaluation report: predict, score against true masks, write masks, overlays, RLE,
per-image scores, metrics.json and report.md. Used for the test split after training and by
`faultcli eval` on a segmentation checkpoint.

Figures lead with what a user means by a good mask (Dice / IoU on the images that hold the defect, the
class-agnostic defect mask, detection), then the saliency measures of the literature, then the
all-images Dice of the Kaggle Severstal convention, each named as what it is (``FIGURES``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from faultcli import plots
from faultcli.progress import Reporter
from faultcli.runs import atomic_write_json, atomic_write_text
from faultcli.segmentation.figures import HEADLINE, image_scores, stack_scores, summarize
from faultcli.segmentation.inference import iter_predictions
from faultcli.segmentation.outputs import overlay_png, rle_rows, write_mask_pngs
from faultcli.segmentation.postprocess import PostProcess, binarize
from faultcli.segmentation.saliency import SALIENCY_KEYS, SaliencyMeter

OVERLAYS = 6  # overlay PNGs written by an evaluation (spread over the set)

# every flat figure of metrics.json in reading order, with what it means (report.md and metrics.json)
FIGURES = {
    "dice_pos": "Dice over the images that contain the class, mean over those (image, class) pairs",
    "iou_pos": "IoU over the images that contain the class, mean over those (image, class) pairs",
    "dice_pos_class_mean": "Dice over the images that contain the class, mean over the classes",
    "iou_pos_class_mean": "IoU over the images that contain the class, mean over the classes",
    "defect_dice": "defect Dice, classes ignored (union of predicted channels against union of true masks), "
    "mean over the images with a defect",
    "defect_iou": "defect IoU, classes ignored, mean over the images with a defect",
    "defect_dice_all_images": "defect Dice, classes ignored, mean over all images (no defect predicted on an "
    "image without one counts 1)",
    "defect_iou_all_images": "defect IoU, classes ignored, mean over all images",
    "detect_precision": "image-level detection precision: images with a predicted defect that have one",
    "detect_recall": "image-level detection recall: images with a defect that get a predicted one",
    "dice_pos_untuned": "dice_pos at threshold 0.5 and no minimum area (before the tuned post-processing)",
    "weighted_f": "weighted F-measure, β² = 1 (Margolin et al., CVPR 2014)",
    "mae": "mean absolute error of the probability map (lower is better)",
    "s_measure": "S-measure, α = 0.5 (Fan et al., ICCV 2017)",
    "e_measure_mean": "E-measure, mean over the 256 thresholds t/255 (Fan et al., IJCAI 2018)",
    "e_measure_adaptive": "E-measure at the adaptive threshold min(2 × mean of the map, 1)",
    "dice_all_images": "Dice over every (image, class) pair; a channel empty in truth and prediction counts 1 "
    "(Kaggle Severstal convention)",
    "iou_all_images": "IoU over every (image, class) pair, empty channels counting 1",
    "dice_untuned": "dice_all_images at threshold 0.5 and no minimum area",
}
ALL_IMAGES = ("dice_all_images", "iou_all_images", "dice_untuned")
DEFECT = tuple(k for k in FIGURES if k not in ALL_IMAGES and k not in SALIENCY_KEYS)


def _spread(n: int, k: int) -> list[int]:
    return sorted(set(np.linspace(0, n - 1, min(n, k)).round().astype(int).tolist())) if n else []


def evaluate_images(
    model: torch.nn.Module,
    images: Sequence[np.ndarray],
    true: Sequence[np.ndarray],
    names: Sequence[str],
    classes: list[str],
    post: PostProcess,
    out: Path,
    *,
    mean: Sequence[float],
    std: Sequence[float],
    tile: tuple[int, int],
    overlap: float = 0.25,
    tta_flip: bool = False,
    batch_size: int = 16,
    device: torch.device | str = "cpu",
    reporter: Reporter | None = None,
    title: str = "Segmentation",
    history: list[dict] | None = None,
) -> dict[str, Any]:
    """Predict, score against ``true`` (K, H, W) masks and write the report files into ``out``.

    Streams image by image (``images`` and ``true`` may be memory-mapped rows): masks, overlays and
    scores are written or kept as each prediction arrives.
    """
    out.mkdir(parents=True, exist_ok=True)
    stems = [Path(n).with_suffix("").as_posix().replace("/", "__") for n in names]
    overlays = set(_spread(len(names), OVERLAYS))
    tuned, untuned, rle, saliency_rows = [], [], [], []
    saliency = SaliencyMeter()
    predictions = iter_predictions(
        model,
        images,
        mean,
        std,
        tile=tile,
        overlap=overlap,
        tta_flip=tta_flip,
        batch_size=batch_size,
        device=device,
        reporter=reporter,
    )
    for i, probs in enumerate(predictions):
        pred = binarize(probs, post)
        truth = np.asarray(true[i])
        tuned.append(image_scores(pred, truth))
        untuned.append(image_scores((probs > 0.5).astype(np.uint8), truth))
        defect = truth.any(axis=0)
        # class-agnostic probability map; blended tiles may stray past 1 by rounding
        sal = saliency.add(np.clip(probs.max(axis=0), 0.0, 1.0), defect) if defect.any() else {}
        saliency_rows.append(sal)
        write_mask_pngs(out / "masks", stems[i], pred, classes)
        rle += rle_rows(names[i], pred, classes)
        if i in overlays:
            overlay_png(out / "overlays" / f"{stems[i]}.png", images[i], pred, truth, classes)
    table = pd.DataFrame(rle, columns=["ImageId", "ClassId", "EncodedPixels"])
    atomic_write_text(out / "predictions_rle.csv", table.to_csv(index=False))
    scores = stack_scores(tuned)
    figures = summarize(scores, classes)
    before = summarize(stack_scores(untuned), classes)
    _write_per_image(out / "per_image.csv", names, classes, scores, saliency_rows)
    flat = {
        **{k: figures[k] for k in HEADLINE if k not in ALL_IMAGES},
        "dice_pos_untuned": before["dice_pos"],
        **saliency.result(),
        **{k: figures[k] for k in HEADLINE if k in ALL_IMAGES},
        "dice_untuned": before["dice_all_images"],
    }
    counts = {k: figures[k] for k in ("n_images", "n_defect_images", "empty_pairs")}
    counts["saliency_images"] = saliency.count
    detail = {
        **flat,
        "dice": figures["dice"],  # former names of the all-images figures
        "iou": figures["iou"],
        **counts,
        "headline": list(FIGURES),  # the reading order (the file's keys are sorted)
        "definitions": dict(FIGURES),
        "per_class": figures["per_class"],
        "classes": classes,
        "postprocess": post.to_dict(),
        "files": {
            "masks": "masks/<class>/<image>.png",
            "rle": "predictions_rle.csv",
            "per_image": "per_image.csv",
            "overlays": "overlays/",
        },
    }
    if history:  # the training run's per-epoch figures
        detail["files"]["training_curves"] = plots.training_curves_png(history, out / "training_curves.png").name
    atomic_write_json(out / "metrics.json", detail)
    _write_markdown(
        out / "report.md",
        title,
        flat,
        counts,
        figures["per_class"],
        post,
        classes,
        "training_curves" in detail["files"],
    )
    return detail


def _write_per_image(
    path: Path, names: Sequence[str], classes: list[str], scores: dict, saliency_rows: list[dict]
) -> None:
    """One row per image: the defect Dice, its saliency measures (empty without a defect), per class
    Dice / truth / prediction; the worst images are a sort away."""
    table = pd.DataFrame({"image": list(names), "defect_dice": scores["defect_dice"].round(5)})
    for key in ("weighted_f", "s_measure", "mae"):
        table[key] = [round(r[key], 5) if r else None for r in saliency_rows]
    for k, name in enumerate(classes):
        table[f"dice_{name}"] = scores["dice"][:, k].round(5)
        table[f"has_{name}"] = scores["present"][:, k]
        table[f"found_{name}"] = scores["found"][:, k]
    atomic_write_text(path, table.to_csv(index=False))


def _fmt(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def _rows(flat: dict, keys: Sequence[str]) -> list[str]:
    return ["| figure | value | what it is |", "|---|---|---|"] + [
        f"| `{k}` | {_fmt(flat[k])} | {FIGURES[k]} |" for k in keys
    ]


def _write_markdown(
    path: Path,
    title: str,
    flat: dict,
    counts: dict,
    per_class: dict,
    post: PostProcess,
    classes: list[str],
    curves: bool,
) -> None:
    lines = [
        f"# {title}",
        "",
        f"{counts['n_images']} images, {counts['n_defect_images']} with a defect. Masks are binarised with the "
        "per-class threshold and minimum area in the table below (tuned on validation).",
        "",
        "## Defect masks",
        "",
        *_rows(flat, DEFECT),
        "",
        "## Per class",
        "",
        "| class | Dice (images with the class) | IoU (images with the class) | images with it | "
        "detect P | detect R | Dice, all images | threshold | min area px |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for k, name in enumerate(classes):
        r = per_class[name]
        lines.append(
            f"| {name} | {_fmt(r['dice_pos'])} | {_fmt(r['iou_pos'])} | {r['images_with_class']} | "
            f"{_fmt(r['detect_precision'])} | {_fmt(r['detect_recall'])} | {_fmt(r['dice_all_images'])} | "
            f"{post.thresholds[k]:.2f} | {post.min_areas[k]} |"
        )
    lines += [
        "",
        "## Saliency measures of the defect probability map",
        "",
        *_rows(flat, SALIENCY_KEYS),
        "",
        f"The map is the highest class probability per pixel, before thresholds and minimum areas, scored "
        f"against the union of the true masks on each of the {counts['saliency_images']} images with a defect, "
        "then averaged, as the salient-object-detection literature does. Definitions: "
        "docs/segmentation-metrics.md.",
        "",
        "## All images × classes",
        "",
        *_rows(flat, ALL_IMAGES),
        "",
        f"{counts['empty_pairs']:.0%} of the (image, class) pairs here are empty in truth, and each one "
        "predicted empty scores a perfect 1: these figures rise with that share whatever the defect masks' "
        "quality. Read the tables above first.",
        "",
        "Overlays (image | true | predicted) are in overlays/, masks in masks/<class>/, "
        "run-length masks in predictions_rle.csv, per-image scores in per_image.csv.",
        "",
    ]
    if curves:
        lines += ["![training curves](training_curves.png)", ""]
    atomic_write_text(path, "\n".join(lines))
