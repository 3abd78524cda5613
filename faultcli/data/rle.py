"""Severstal run-length encoding: pixels numbered column by column (top to bottom, then left to right),
1-based, written as ``"start length start length ..."``; an empty string is an empty mask."""

from __future__ import annotations

import numpy as np

from faultcli.errors import DataError


def encode(mask: np.ndarray) -> str:
    """(H, W) mask (bool or 0/1 or 0/255) → RLE string."""
    flat = np.asarray(mask).astype(bool).ravel(order="F")
    # run boundaries are where the padded sequence changes value
    padded = np.concatenate([[False], flat, [False]])
    changes = np.flatnonzero(padded[1:] != padded[:-1]) + 1
    starts, ends = changes[0::2], changes[1::2]
    return " ".join(f"{s} {e - s}" for s, e in zip(starts, ends, strict=True))


def decode(rle: str, height: int, width: int, where: str = "") -> np.ndarray:
    """RLE string → uint8 (height, width) mask in {0, 1}. ``where`` names the source in error messages."""
    place = f"{where}: " if where else ""
    text = "" if rle is None else str(rle).strip()
    mask = np.zeros(height * width, dtype=np.uint8)
    if not text or text.lower() == "nan":
        return mask.reshape((height, width), order="F")
    try:
        numbers = np.array(text.split(), dtype=np.int64)
    except (ValueError, OverflowError):  # words, decimals, inf, 1e400, numbers beyond 64 bits
        raise DataError(
            f"{place}run-length mask holds non-integers or numbers beyond 64 bits; "
            "write 'start length start length ...'"
        ) from None
    if numbers.size % 2:
        raise DataError(
            f"{place}run-length mask has an odd count of numbers ({numbers.size}); it must be start/length pairs"
        )
    starts, lengths = numbers[0::2], numbers[1::2]
    if (starts < 1).any() or (lengths < 0).any():
        raise DataError(f"{place}run-length mask has a start below 1 or a negative length; starts are 1-based")
    # starts and lengths are bounded before they are added, so the sum cannot wrap around 64 bits
    too_far = np.maximum(starts - 1, lengths) > height * width
    ends = np.where(too_far, height * width + 1, starts - 1 + lengths)
    if ends.max() > height * width:
        k = int(np.argmax(ends > height * width))
        raise DataError(
            f"{place}run-length mask runs past the image (run '{starts[k]} {lengths[k]}' on {height}×{width} = "
            f"{height * width} pixels); check the image size or the column-major 1-based encoding"
        )
    for start, end in zip(starts - 1, ends, strict=True):
        mask[start:end] = 1
    return mask.reshape((height, width), order="F")
