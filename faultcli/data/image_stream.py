"""One image's processing (colour, crop, resize), and the prepared image arrays written one item at a time:
images.npy, masks.npy and edges.npy never sit in memory.

Each image is decoded, coloured, cropped and resized, then appended to ``images.npy`` (its masks to
``masks.npy``); edge maps are a second pass over the written images. The files hold the bytes ``np.save``
of the stacked arrays would. With ``data.color = "auto"`` the images stay one channel until the first colour
one: the rows written so far are then widened to three equal channels, piece by piece.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from faultcli.config.schema import DataConfig
from faultcli.data.cache import NpyAppender, NpyRows
from faultcli.data.crops import apply_crop, crop_rule_for
from faultcli.data.edges import edge_map
from faultcli.data.image_items import Collected, Item
from faultcli.data.readers.images import decode_image, is_gray, to_color
from faultcli.data.readers.masks import read_mask
from faultcli.data.rle import decode as rle_decode
from faultcli.errors import DataError
from faultcli.progress import Reporter

CHUNK = 256  # rows read back at once when widening to colour or computing edge maps


def resize(image: np.ndarray, size: tuple[int, int] | list[int] | None, nearest: bool = False) -> np.ndarray:
    """Resize (H, W[, C]) to ``size`` = (height, width); ``None``/empty keeps it. Keeps a trailing C axis."""
    if not size or tuple(image.shape[:2]) == tuple(size):
        return image
    height, width = int(size[0]), int(size[1])
    shrinking = height <= image.shape[0] and width <= image.shape[1]
    interpolation = cv2.INTER_NEAREST if nearest else cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    out = cv2.resize(np.ascontiguousarray(image), (width, height), interpolation=interpolation)
    return out[:, :, None] if image.ndim == 3 and out.ndim == 2 else out


def process_image(image: np.ndarray, color: str, crop_rule: str, image_size: list[int] | None) -> np.ndarray:
    """Decoded image → uint8 (H, W, C): colour ('gray' / 'rgb' / 'auto' keeps gray as gray), crop, resize."""
    if color == "auto":
        color = "gray" if is_gray(image) else "rgb"
    return resize(apply_crop(to_color(image, color), crop_rule), image_size)


@dataclass
class Streamed:
    """What the read pass kept: item rows, original sizes, undecodable files, and the written arrays' shapes."""

    kept: list[int] = field(default_factory=list)
    sizes: list[tuple[int, int]] = field(default_factory=list)
    undecodable: list[str] = field(default_factory=list)
    images_shape: tuple[int, ...] = ()
    has_masks: bool = False


def item_mask(item: Item, classes: list[str], shape: tuple[int, int]) -> np.ndarray:
    """uint8 (K, H, W) masks of one item at its original size: the mask in the channel of its class."""
    masks = np.zeros((len(classes), *shape), dtype=np.uint8)
    if item.mask is not None:
        masks[classes.index(item.label)] = read_mask(item.mask, shape)
    for name, rle in item.rle:
        masks[classes.index(name)] |= rle_decode(rle, shape[0], shape[1], where=f"RLE of {item.rel} class {name}")
    return masks


class _ImageFile:
    """images.npy appended row by row; one channel widened to three when a colour image arrives."""

    def __init__(self, path: Path) -> None:
        self.path, self.writer = path, None

    def append(self, image: np.ndarray) -> None:
        if self.writer is None:
            self.writer = NpyAppender(self.path, np.uint8, image.shape)
        channels = self.writer.row_shape[2]
        if image.shape[2] == 3 and channels == 1:
            self._widen()
        elif image.shape[2] == 1 and channels == 3:
            image = np.repeat(image, 3, axis=2)
        self.writer.append(image)

    def _widen(self) -> None:
        """Rewrite the gray rows written so far as three equal channels (``color = "auto"`` met colour)."""
        gray = self.path.with_name(self.path.stem + ".gray.npy")
        self.writer.close()
        os.replace(self.path, gray)
        rows = NpyRows(gray)
        self.writer = NpyAppender(self.path, np.uint8, (*rows.row_shape[:2], 3))
        for start in range(0, len(rows), CHUNK):
            self.writer.append(np.repeat(rows.read(start, min(CHUNK, len(rows) - start)), 3, axis=3))
        del rows
        gray.unlink()

    def close(self) -> tuple[int, ...]:
        if self.writer is None:
            return ()
        self.writer.close()
        return (self.writer.size, *self.writer.row_shape)


def stream_images(cfg: DataConfig, task: str, collected: Collected, out: Path, reporter: Reporter) -> Streamed:
    """Decode, colour, crop and resize every item into ``out``/images.npy (and masks.npy); stops with the
    first problem found over all items: undecodable files (unless allowed), none decodable, unequal sizes."""
    result, images = Streamed(), _ImageFile(out / "images.npy")
    masks: NpyAppender | None = None
    first_bad, first, odd = None, None, None  # first undecodable path; (rel, shape) of the first and first odd
    try:
        with reporter.task("reading images", total=len(collected.items)) as bar:
            for row, item in enumerate(collected.items):
                bar.advance()
                raw = decode_image(item.path)
                if raw is None:
                    result.undecodable.append(item.rel)
                    first_bad = first_bad or item.path
                    continue
                if odd is not None:  # a size error is coming: only look for undecodable files still
                    continue
                rule = crop_rule_for(item.label, cfg.crops)
                image = process_image(raw, cfg.color, rule, cfg.image_size)
                if first is None:
                    first = (item.rel, image.shape)
                elif image.shape[:2] != first[1][:2]:
                    odd = (item.rel, image.shape)
                    continue
                images.append(image)
                if task == "segmentation":
                    full = item_mask(item, collected.classes, raw.shape[:2])
                    item_masks = np.stack([resize(apply_crop(m, rule), cfg.image_size, nearest=True) for m in full])
                    masks = masks or NpyAppender(out / "masks.npy", np.uint8, item_masks.shape)
                    masks.append(item_masks)
                result.kept.append(row)
                result.sizes.append(raw.shape[:2])
    finally:
        result.images_shape = images.close()
        if masks is not None:
            masks.close()
            result.has_masks = True
    if result.undecodable and not cfg.allow_corrupt:
        more = f" and {len(result.undecodable) - 1} more" if len(result.undecodable) > 1 else ""
        raise DataError(
            f"image {first_bad}{more} cannot be decoded; fix or remove it, "
            "or set data.allow_corrupt = true to skip undecodable images"
        )
    if first is None:
        raise DataError("no image could be decoded; check the files under data.root")
    if odd is not None:
        (h, w), other = first[1][:2], odd[1]
        raise DataError(
            f"images have different sizes ({first[0]} is {h}×{w}, {odd[0]} is {other[0]}×{other[1]}); "
            f"set data.image_size = [{h}, {w}] to resize them all"
        )
    return result


def write_edge_maps(images_path: Path, edges_path: Path, sigma: float, reporter: Reporter) -> None:
    """uint8 (N, H, W) edge maps of the written images, read back a chunk of rows at a time."""
    rows = NpyRows(images_path)
    writer = NpyAppender(edges_path, np.uint8, rows.row_shape[:2])
    try:
        with reporter.task("edge maps", total=len(rows)) as bar:
            for start in range(0, len(rows), CHUNK):
                for image in rows.read(start, min(CHUNK, len(rows) - start)):
                    writer.append(edge_map(image, sigma))
                    bar.advance()
    finally:
        writer.close()
