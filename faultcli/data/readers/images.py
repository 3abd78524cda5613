"""Image files: find them, decode them, and tell their class from the folder, the name or a regex."""

from __future__ import annotations

import fnmatch
import os
import re
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from faultcli.errors import DataError
from faultcli.registry import register

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
# ``crazing_12`` → ``crazing``; ``rolled-in_scale_3`` → ``rolled-in_scale``: up to the last ``_<number>``
_PREFIX = re.compile(r"^(?P<label>.+?)_\d+$")


def _matches(rel: str, patterns: Sequence[str]) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p) for p in patterns)


def find_images(folder: Path, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> list[Path]:
    """Image files under ``folder`` (recursive, sorted), filtered by glob patterns on the relative path."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"image folder {folder} does not exist; set data.root (and data.image_dir) to a folder")
    found = []
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
            continue
        rel = path.relative_to(folder).as_posix()
        if any(part.startswith(".") for part in rel.split("/")):
            continue  # hidden files and folders (e.g. .ipynb_checkpoints)
        if include and not _matches(rel, include):
            continue
        if exclude and _matches(rel, exclude):
            continue
        found.append(path)
    return found


def prefix_label(path: Path | str) -> str | None:
    """The file name up to its last ``_<number>``, or None when the name has no such suffix."""
    match = _PREFIX.match(Path(path).stem)
    return match.group("label") if match else None


def raw_label(rel: str, label_from: str, label_regex: str = "") -> str | None:
    """The raw class of a file (path relative to the image folder) by folder / prefix / regex; None if none."""
    if label_from == "folder":
        parts = rel.split("/")
        return parts[-2] if len(parts) > 1 else None
    if label_from == "prefix":
        return prefix_label(rel)
    if label_from == "regex":
        match = re.search(label_regex, rel)
        return match.group("label") if match else None
    raise ValueError(f"label_from {label_from!r} is not read from the path")


def map_label(raw: str | None, label_map: Mapping[str, str]) -> str | None:
    return None if raw is None else label_map.get(raw, raw)


# what libjpeg prints (instead of failing) when the entropy-coded data is damaged or cut short: the image
# it returns then holds grey or smeared blocks, so such a file counts as undecodable
_CORRUPT_JPEG = (b"Corrupt JPEG data", b"Premature end of JPEG file")
_STDERR_LOCK = threading.Lock()


def _imdecode_quietly(data: np.ndarray) -> tuple[np.ndarray | None, bytes]:
    """``cv2.imdecode`` with the C decoders' stderr (libjpeg / libpng warnings, OpenCV's own log lines) caught
    in a temporary file: kept off the terminal, and returned to tell corrupt data from clean."""
    with _STDERR_LOCK, tempfile.TemporaryFile() as sink:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no stderr to redirect: decode as is
            return cv2.imdecode(data, cv2.IMREAD_UNCHANGED), b""
        try:
            os.dup2(sink.fileno(), 2)
            image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        return image, sink.read(1 << 16)


def decode_bytes(path: Path) -> np.ndarray | None:
    """The image a file holds as OpenCV decodes it (BGR order, any depth); None if it is unreadable, not an
    image, or a JPEG whose data the decoder reports as corrupt or cut short.

    Reads bytes first so that paths with spaces or non-ASCII characters work on every platform.
    """
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except (OSError, ValueError):
        return None
    if not data.size:
        return None
    image, chatter = _imdecode_quietly(data)
    if image is None or image.size == 0 or any(flag in chatter for flag in _CORRUPT_JPEG):
        return None
    if image.dtype.kind == "f" and not np.isfinite(image).all():  # float TIFF with NaN or inf pixels
        return None
    return image


def decode_image(path: Path) -> np.ndarray | None:
    """Decode to uint8 (H, W) gray or (H, W, 3) RGB; None if the file is not a readable image."""
    image = decode_bytes(path)
    if image is None:
        return None
    if image.dtype != np.uint8:  # 16-bit PNG/TIFF: scale to 8 bits
        image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3:
        code = cv2.COLOR_BGRA2RGB if image.shape[2] == 4 else cv2.COLOR_BGR2RGB
        image = cv2.cvtColor(image, code)
    return image


def is_gray(image: np.ndarray) -> bool:
    """Single channel, or three equal channels (gray stored as RGB)."""
    if image.ndim == 2:
        return True
    return bool((image[:, :, 0] == image[:, :, 1]).all() and (image[:, :, 1] == image[:, :, 2]).all())


def to_color(image: np.ndarray, color: str) -> np.ndarray:
    """Convert a decoded image to (H, W, 1) for ``'gray'`` or (H, W, 3) for ``'rgb'``."""
    if color == "gray":
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        return gray[:, :, None]
    if color == "rgb":
        return np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image
    raise ValueError(f"color must be 'gray' or 'rgb', got {color!r}")


@dataclass
class ImageListing:
    """Images found under a folder with their class (None when the rule gives none)."""

    folder: Path
    files: list[Path] = field(default_factory=list)
    labels: list[str | None] = field(default_factory=list)

    def rel(self, path: Path) -> str:
        return path.relative_to(self.folder).as_posix()


@register("reader", "images")
def read_image_folder(
    folder: Path,
    label_from: str = "folder",
    label_regex: str = "",
    label_map: Mapping[str, str] | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> ImageListing:
    """List images and their classes by folder / prefix / regex (csv labels are joined by the caller)."""
    folder = Path(folder)
    files = find_images(folder, include, exclude)
    if not files:
        raise DataError(f"no images ({', '.join(IMAGE_SUFFIXES)}) found in {folder}; check data.root and data.include")
    listing = ImageListing(folder, files)
    for path in files:
        rel = listing.rel(path)
        raw = raw_label(rel, label_from, label_regex) if label_from in ("folder", "prefix", "regex") else None
        listing.labels.append(map_label(raw, label_map or {}))
    if label_from == "folder":
        _check_class_folders(folder)
    return listing


def _check_class_folders(folder: Path) -> None:
    """A class folder with no image is a mistake worth stopping for (e.g. images in a sub-sub-folder)."""
    for child in sorted(folder.iterdir()):
        if child.is_dir() and not child.name.startswith(".") and not find_images(child):
            raise DataError(
                f"class folder {child} holds no images ({', '.join(IMAGE_SUFFIXES)}); add images or remove it"
            )
