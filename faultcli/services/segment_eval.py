"""Segmentation evaluation and prediction: the test report of `segment train`, `faultcli eval` on a
segmentation checkpoint, and `faultcli segment predict` on new (unlabelled) images."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
import torch

from faultcli.config import Config
from faultcli.data.crops import crop_rule_for
from faultcli.data.images import load_image, resize
from faultcli.data.readers.images import IMAGE_SUFFIXES, find_images
from faultcli.errors import CheckpointError, DataError
from faultcli.progress import LogReporter, Reporter
from faultcli.runs import Run, atomic_write_json, atomic_write_text
from faultcli.segment.figures import image_scores, summarize
from faultcli.segment.inference import iter_predictions
from faultcli.segment.outputs import overlay_png, rle_rows, write_mask_pngs
from faultcli.segment.postprocess import PostProcess, binarize
from faultcli.services.common import pick_device, set_threads

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
    atomic_write_json(out / "metrics.json", detail)
    _write_markdown(out / "report.md", title, flat, figures["per_class"], post, classes)
    return detail


def _write_markdown(path: Path, title: str, flat: dict, per_class: dict, post: PostProcess, classes: list[str]) -> None:
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
    atomic_write_text(path, "\n".join(lines))


# ----------------------------------------------------------------------------- checkpoints


def load_segmenter(state: dict[str, Any], device: torch.device) -> torch.nn.Module:
    from faultcli.services.segment import build_segmenter

    model = build_segmenter(dict(state["model_kwargs"]))
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as err:
        first = str(err).splitlines()[0][:160]
        raise CheckpointError(
            f"checkpoint weights do not fit {state['model_kwargs']} ({first}); "
            "use a checkpoint written by faultcli segment train"
        ) from None
    return model.to(device).eval()


def postprocess_of(state: dict[str, Any]) -> PostProcess:
    """The tuned thresholds / min areas of a checkpoint (0.5 / none if it was never tuned, e.g. last.pt)."""
    data = state.get("postprocess")
    return PostProcess.from_dict(data) if data else PostProcess.default(len(state["classes"]))


def run_segment_eval(state: dict[str, Any], cfg: Config, split: str, run: Run, reporter: Reporter) -> dict[str, Any]:
    """`faultcli eval` for a segmentation checkpoint: a split of its data or a new labelled folder."""
    from faultcli.services.segment import segmentation_data

    reporter = LogReporter(reporter, run.logger)
    set_threads(cfg.train.threads)
    device = pick_device(cfg.train.device)
    info = state["data_info"]
    data = segmentation_data(cfg, reporter, data_info=info)
    if list(data.classes) != list(state["classes"]):
        raise CheckpointError(
            f"data classes {data.classes} differ from the checkpoint's {state['classes']}; "
            "evaluate on masks of the checkpoint's classes (data.classes / data.label_map)"
        )
    if data.channels != int(info["channels"]):
        raise CheckpointError(
            f"the data has {data.channels} channel(s) but the checkpoint takes {info['channels']}; "
            f"set data.color = {info['color']!r}"
        )
    rows = data.rows(split)
    if len(rows) == 0:
        raise DataError(f"the {split} split of {cfg.data.root} is empty; use --split all for a new folder")
    model = load_segmenter(state, device)
    post = postprocess_of(state)
    detail = evaluate_images(
        model,
        data.images_of(rows),
        data.masks_of(rows),
        data.names(rows),
        data.classes,
        post,
        run.path,
        mean=data.mean,
        std=data.std,
        tile=tuple(info["image_size"]),
        overlap=cfg.eval.tile_overlap,
        tta_flip=cfg.eval.tta_flip,
        batch_size=min(cfg.eval.batch_size, 64),
        device=device,
        reporter=reporter,
        title=f"Segmentation of {cfg.name or 'checkpoint'} on {split}",
    )
    summary = {k: v for k, v in detail.items() if k != "files"}
    summary.update({"split": split, "data_root": cfg.data.root, "n_images": len(rows)})
    run.write_summary(summary)
    return summary


# ----------------------------------------------------------------------------- predict


def list_inputs(path: Path) -> list[Path]:
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise DataError(f"--input {path} is not an image ({', '.join(IMAGE_SUFFIXES)}); pass an image or folder")
        return [path]
    if not path.exists():
        raise DataError(f"--input {path} does not exist; pass an image file or a folder of images")
    files = find_images(path)
    if not files:
        raise DataError(f"no images under {path}; pass a folder holding {', '.join(IMAGE_SUFFIXES)} files")
    return files


def predict_folder(state: dict[str, Any], cfg: Config, source: Path, run: Run, reporter: Reporter) -> dict[str, Any]:
    """Masks (PNG per class), an RLE CSV and overlays for every image under ``source``.

    Each image is read as training read its data (colour, the '*' crop rule), scaled by the training
    resize factor, tiled when larger than the training size, and its masks scaled back to its size.
    Images go through in chunks, so a large folder never sits in memory.
    """
    reporter = LogReporter(reporter, run.logger)
    set_threads(cfg.train.threads)
    device = pick_device(cfg.train.device)
    info, classes = state["data_info"], list(state["classes"])
    source = Path(source)
    files = list_inputs(source)
    base = source if source.is_dir() else source.parent
    names = [f.relative_to(base).as_posix() for f in files]
    rule = crop_rule_for(None, info.get("crops", {}))
    sy, sx = info["scale"]
    model = load_segmenter(state, device)
    post = postprocess_of(state)
    batch = min(cfg.eval.batch_size, 64)
    rle: list[dict[str, str]] = []
    found = np.zeros((len(files), len(classes)), dtype=bool)
    with reporter.task("predicting masks", len(files)) as progress:
        for start in range(0, len(files), batch):
            images = [load_image(f, info["color"], rule) for f in files[start : start + batch]]
            scaled = [resize(im, (max(1, round(im.shape[0] * sy)), max(1, round(im.shape[1] * sx)))) for im in images]
            probs = iter_predictions(
                model,
                scaled,
                info["mean"],
                info["std"],
                tile=tuple(info["image_size"]),
                overlap=cfg.eval.tile_overlap,
                tta_flip=cfg.eval.tta_flip,
                batch_size=batch,
                device=device,
            )
            for n, (image, p) in enumerate(zip(images, probs, strict=True), start=start):
                height, width = image.shape[:2]
                # post-processing at the model's scale (where areas were tuned), then back to the image's size
                mask = np.stack(
                    [cv2.resize(m, (width, height), interpolation=cv2.INTER_NEAREST) for m in binarize(p, post)]
                )
                stem = Path(names[n]).with_suffix("").as_posix().replace("/", "__")
                write_mask_pngs(run.path / "masks", stem, mask, classes)
                overlay_png(run.path / "overlays" / f"{stem}.png", image, mask, None, classes)
                rle += rle_rows(names[n], mask, classes)
                found[n] = mask.reshape(len(classes), -1).any(axis=1)
                progress.advance(1)
    table = pd.DataFrame(rle, columns=["ImageId", "ClassId", "EncodedPixels"])
    atomic_write_text(run.path / "predictions_rle.csv", table.to_csv(index=False))
    summary = {
        "n_images": len(files),
        "images_with_defect": int(found.any(axis=1).sum()),
        "images_per_class": {c: int(found[:, k].sum()) for k, c in enumerate(classes)},
        "input": str(source),
        "postprocess": post.to_dict(),
        "classes": classes,
    }
    run.write_summary(summary)
    return summary
