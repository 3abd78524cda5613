"""Segmentation masks: a folder of mask images paired with the image folder by file stem, or a
Severstal-style CSV of run-length masks (``ImageId,ClassId,EncodedPixels``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from faultcli.data.readers.images import decode_bytes, find_images
from faultcli.errors import DataError
from faultcli.registry import register


@dataclass
class MaskPairs:
    """Images paired with their mask files, and the files on either side that have no partner."""

    image_dir: Path
    mask_dir: Path
    pairs: list[tuple[Path, Path]] = field(default_factory=list)
    images_without_masks: list[str] = field(default_factory=list)
    masks_without_images: list[str] = field(default_factory=list)


@register("reader", "masks")
def pair_masks(image_dir: Path, mask_dir: Path, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> MaskPairs:
    """Pair ``image_dir/<sub>/<stem>.*`` with ``mask_dir/<sub>/<stem>.*`` (same relative stem)."""
    image_dir, mask_dir = Path(image_dir), Path(mask_dir)
    if not mask_dir.is_dir():
        raise DataError(f"mask folder {mask_dir} does not exist; set data.mask_dir (relative to data.root)")
    images = find_images(image_dir, include, exclude)
    every_image = find_images(image_dir) if include or exclude else images
    masks = find_images(mask_dir)
    if not images:
        raise DataError(f"no images found in {image_dir}; check data.root, data.image_dir and data.include")

    def key(path: Path, folder: Path) -> str:
        return path.relative_to(folder).with_suffix("").as_posix()

    by_key: dict[str, Path] = {}
    for mask in masks:
        by_key.setdefault(key(mask, mask_dir), mask)
    out = MaskPairs(image_dir, mask_dir)
    used = set()
    for image in images:
        k = key(image, image_dir)
        if k in by_key:
            out.pairs.append((image, by_key[k]))
            used.add(k)
        else:
            out.images_without_masks.append(image.relative_to(image_dir).as_posix())
    # a mask of an image left out by include/exclude still has its image
    every_key = {key(image, image_dir) for image in every_image}
    out.masks_without_images = [
        m.relative_to(mask_dir).as_posix() for k, m in sorted(by_key.items()) if k not in used and k not in every_key
    ]
    return out


def read_mask(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """A mask image → uint8 (H, W) in {0, 1}. Must match the image's (H, W) and hold only 0/255 or 0/1."""
    mask = decode_bytes(path)
    if mask is None:
        raise DataError(f"mask {path} cannot be decoded; replace it with a PNG of 0/255 values")
    if mask.ndim == 3:
        if not all((mask[:, :, c] == mask[:, :, 0]).all() for c in range(1, mask.shape[2])):
            raise DataError(f"mask {path} is a colour image; save it as a one-channel PNG of 0/255")
        mask = mask[:, :, 0]
    if mask.shape != tuple(shape):
        raise DataError(
            f"mask {path} is {mask.shape[0]}×{mask.shape[1]} but its image is {shape[0]}×{shape[1]}; "
            "masks must have their image's size"
        )
    values = np.unique(mask)
    if set(values.tolist()) <= {0, 1}:
        return mask.astype(np.uint8)
    if set(values.tolist()) <= {0, 255}:
        return (mask > 0).astype(np.uint8)
    raise DataError(
        f"mask {path} holds values {values[:6].tolist()}{'…' if values.size > 6 else ''}, not only 0/255 "
        "(or 0/1); save masks as lossless PNG (no JPEG) and threshold them"
    )


@dataclass
class RleRow:
    image: str
    class_id: str
    rle: str
    row: int  # 0-based data row, for messages


def read_rle_csv(path: Path) -> list[RleRow]:
    """Rows of a Severstal CSV: ``ImageId,ClassId,EncodedPixels`` (or the older ``ImageId_ClassId``).

    A row with no EncodedPixels is an empty mask (kept: it says the image was annotated).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"RLE CSV {path} not found; set data.rle_csv to an existing file")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as err:  # binary bytes, broken quoting, no header: not a CSV of masks
        raise DataError(
            f"RLE CSV {path} cannot be read ({type(err).__name__}: {err}); write ImageId,ClassId,EncodedPixels"
        ) from None
    columns = {c.strip(): c for c in table.columns}
    if "ImageId_ClassId" in columns and "ImageId" not in columns:
        split = table[columns["ImageId_ClassId"]].str.rsplit("_", n=1, expand=True)
        if split.shape[1] < 2 or split[1].isna().any():
            raise DataError(
                f"RLE CSV {path}: an ImageId_ClassId value has no '_<class>' suffix; write <image>_<class> in each row"
            )
        images, class_ids = split[0], split[1]
    elif {"ImageId", "ClassId"} <= set(columns):
        images, class_ids = table[columns["ImageId"]], table[columns["ClassId"]]
    else:
        raise DataError(f"RLE CSV {path} needs columns ImageId,ClassId,EncodedPixels; found {', '.join(columns)}")
    if "EncodedPixels" not in columns:
        raise DataError(f"RLE CSV {path} has no EncodedPixels column; write ImageId,ClassId,EncodedPixels")
    pixels = table[columns["EncodedPixels"]]
    return [
        RleRow(str(i).strip(), str(c).strip(), str(p).strip(), n)
        for n, (i, c, p) in enumerate(zip(images, class_ids, pixels, strict=True))
    ]
