"""The segmentation evaluation report: predict, score against true masks, write masks, overlays, RLE,
per-image scores, metrics.json and report.md. Used for the test split after training and by
`faultcli eval` on a segmentation checkpoint."""

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
from faultcli.segmentation.figures import image_scores, summarize
from faultcli.segmentation.inference import iter_predictions
from faultcli.segmentation.outputs import overlay_png, rle_rows, write_mask_pngs
from faultcli.segmentation.postprocess import PostProcess, binarize

OVERLAYS = 6  # overlay PNGs written by an evaluation (spread over the set)


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
    tuned, untuned, rle = [], [], []
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
        write_mask_pngs(out / "masks", stems[i], pred, classes)
        rle += rle_rows(names[i], pred, classes)
        if i in overlays:
            overlay_png(out / "overlays" / f"{stems[i]}.png", images[i], pred, truth, classes)
    table = pd.DataFrame(rle, columns=["ImageId", "ClassId", "EncodedPixels"])
    atomic_write_text(out / "predictions_rle.csv", table.to_csv(index=False))
    arrays = {key: np.stack([s[key] for s in tuned]) for key in ("dice", "iou", "present", "found")}
    figures = summarize(arrays["dice"], arrays["iou"], arrays["present"], arrays["found"], classes)
    per_image = pd.DataFrame({"image": list(names)})
    for k, name in enumerate(classes):
        per_image[f"dice_{name}"] = arrays["dice"][:, k].round(5)
        per_image[f"has_{name}"] = arrays["present"][:, k]
        per_image[f"found_{name}"] = arrays["found"][:, k]
    atomic_write_text(out / "per_image.csv", per_image.to_csv(index=False))
    flat = {k: v for k, v in figures.items() if k != "per_class"}
    flat["dice_untuned"] = float(np.mean([s["dice"] for s in untuned]))
    detail = {
        **flat,
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
        out / "report.md", title, flat, figures["per_class"], post, classes, "training_curves" in detail["files"]
    )
    return detail


def _write_markdown(
    path: Path, title: str, flat: dict, per_class: dict, post: PostProcess, classes: list[str], curves: bool
) -> None:
    def fmt(v: Any) -> str:
        return f"{v:.4f}" if isinstance(v, float) else str(v)

    lines = [f"# {title}", "", "| figure | value |", "|---|---|"] + [f"| {k} | {fmt(v)} |" for k, v in flat.items()]
    lines += [
        "",
        "## Per class",
        "",
        "| class | Dice | IoU | Dice (images with the class) | images with it | "
        "detect P | detect R | threshold | min area px |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for k, name in enumerate(classes):
        r = per_class[name]
        lines.append(
            f"| {name} | {fmt(r['dice'])} | {fmt(r['iou'])} | {fmt(r['dice_pos'])} | "
            f"{r['images_with_class']} | {fmt(r['detect_precision'])} | {fmt(r['detect_recall'])} | "
            f"{post.thresholds[k]:.2f} | {post.min_areas[k]} |"
        )
    lines += [
        "",
        "Overlays (image | true | predicted) are in overlays/, masks in masks/<class>/, "
        "run-length masks in predictions_rle.csv.",
        "",
    ]
    if curves:
        lines += ["![training curves](training_curves.png)", ""]
    atomic_write_text(path, "\n".join(lines))
