"""`faultcli segment predict`: masks, overlays and an RLE CSV for new, unlabelled images."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
import torch

from faultcli.data.crops import crop_rule_for
from faultcli.data.images import load_image, resize
from faultcli.data.readers.images import IMAGE_SUFFIXES, find_images
from faultcli.errors import DataError
from faultcli.progress import Reporter
from faultcli.runs import atomic_write_text
from faultcli.segmentation.inference import iter_predictions
from faultcli.segmentation.outputs import overlay_png, rle_rows, write_mask_pngs
from faultcli.segmentation.postprocess import binarize, postprocess_of


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


def predict_folder(
    model: torch.nn.Module,
    state: dict[str, Any],
    source: Path,
    out: Path,
    *,
    tile_overlap: float,
    tta_flip: bool,
    batch_size: int,
    device: torch.device,
    reporter: Reporter,
) -> dict[str, Any]:
    """Masks (PNG per class), an RLE CSV and overlays for every image under ``source``.

    Each image is read as training read its data (colour, the '*' crop rule), scaled by the training
    resize factor, tiled when larger than the training size, and its masks scaled back to its size.
    Images go through in chunks, so a large folder never sits in memory.
    """
    info, classes = state["data_info"], list(state["classes"])
    source = Path(source)
    files = list_inputs(source)
    base = source if source.is_dir() else source.parent
    names = [f.relative_to(base).as_posix() for f in files]
    rule = crop_rule_for(None, info.get("crops", {}))
    sy, sx = info["scale"]
    post = postprocess_of(state)
    batch = batch_size
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
                overlap=tile_overlap,
                tta_flip=tta_flip,
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
                write_mask_pngs(out / "masks", stem, mask, classes)
                overlay_png(out / "overlays" / f"{stem}.png", image, mask, None, classes)
                rle += rle_rows(names[n], mask, classes)
                found[n] = mask.reshape(len(classes), -1).any(axis=1)
                progress.advance(1)
    table = pd.DataFrame(rle, columns=["ImageId", "ClassId", "EncodedPixels"])
    atomic_write_text(out / "predictions_rle.csv", table.to_csv(index=False))
    summary = {
        "n_images": len(files),
        "images_with_defect": int(found.any(axis=1).sum()),
        "images_per_class": {c: int(found[:, k].sum()) for k, c in enumerate(classes)},
        "input": str(source),
        "postprocess": post.to_dict(),
        "classes": classes,
    }
    return summary
