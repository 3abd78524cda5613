"""Raw files → model inputs, with numpy and OpenCV only, exactly as training read its data.

Recordings: the sampling-rate rule (``faultcli.data.rates``), resampling to the model's rate, windows of
``window`` samples every ``step``, the training data's normalisation. Images: colour, crop rule, resize,
per-channel normalisation, and the CLAHE + Canny edge map with the sidecar's parameters. No torch here,
so a light install (numpy, OpenCV, onnxruntime) can serve predictions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from faultcli.data import labels
from faultcli.data.rates import at_rate, read_file, to_orders
from faultcli.data.readers import EXTENSIONS, format_of
from faultcli.data.windows import window_starts
from faultcli.errors import DataError
from faultcli.signal.preprocess import apply_steps

IMAGE_KINDS = ("image", "segmentation")


class SkippedFile(DataError):
    """A file that cannot be predicted (unreadable, shorter than a window): skipped and listed in a folder."""


@dataclass
class Recording:
    """One recording of a file, windowed and normalised for the model."""

    name: str  # the file (relative to the input folder) and its part for multi-recording files
    starts: np.ndarray  # int64 (n,) window starts, in samples at the model's rate
    x: np.ndarray  # float32 (n, 1, window)
    rpm: float | None
    rate: int  # the recording's own rate
    rate_from: str  # file, pattern, explicit, assumed
    warning: str | None


def list_inputs(path: Path, kind: str) -> tuple[list[Path], Path]:
    """(files to predict, the folder names are relative to): recordings or images under ``path``."""
    from faultcli.data.readers.images import IMAGE_SUFFIXES, find_images

    path = Path(path)
    if not path.exists():
        raise DataError(f"--input {path} does not exist; pass a file or a folder")
    suffixes = IMAGE_SUFFIXES if kind in IMAGE_KINDS else tuple(EXTENSIONS)
    what = "images" if kind in IMAGE_KINDS else "recordings"
    if path.is_file():
        if path.suffix.lower() not in suffixes:
            raise DataError(
                f"--input {path} is not one of the model's {what} ({', '.join(suffixes)}); pass such a file"
            )
        return [path], path.parent
    if kind in IMAGE_KINDS:
        files = find_images(path)
    else:
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and format_of(p) and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
    if not files:
        raise DataError(f"no {what} ({', '.join(suffixes)}) under {path}; pass a folder holding them")
    return files, path


def window_batch(signal: np.ndarray, window: int, step: int, mean: float, std: float) -> tuple[np.ndarray, np.ndarray]:
    """(starts, float32 (n, 1, window)) of every whole window, ``(x - mean) / std``."""
    starts = window_starts(0, signal.size, window, step)
    index = starts[:, None] + np.arange(window)
    x = (np.asarray(signal, dtype=np.float32)[index] - np.float32(mean)) / np.float32(std)
    return starts, x[:, None, :].astype(np.float32, copy=False)


def read_recordings(path: Path, name: str, prep: dict[str, Any], sample_rate: int | None = None) -> list[Recording]:
    """The recordings of one file, ready for the model; DataError when unreadable, too short or of unknown rate.

    ``sample_rate`` is the rate the user states (``--sample-rate``); the model's own rate is assumed only
    when its training recipe read every file at one rate (``prep["assume_rate"]``), and the summary says so.
    """
    try:
        raws = read_file(path, format_of(path) or "", channel=prep["channel"], csv_layout=prep["csv_layout"])
    except DataError as err:
        raise SkippedFile(str(err)) from None
    reads = at_rate(
        path,
        raws,
        prep["sample_rate"],
        patterns=prep.get("rate_patterns"),
        explicit=sample_rate or prep.get("source_rate") or None,
        assumed=prep["sample_rate"] if prep.get("assume_rate") else None,
        explicit_hint="--sample-rate HZ",
    )
    speeds = labels.speed_regex(prep.get("speed_regex", ""))
    out = []
    for read in reads:
        part = f" [{read.raw.part}]" if read.raw.part else ""
        signal, rpm = read.signal, read.raw.rpm
        try:
            if rpm is None and speeds is not None:  # the file's own speed first, then the recipe's rule for its name
                rpm = labels.speed_from_path(path.name, speeds)
            if prep.get("steps"):  # the recipe's preprocessing, as training applied it (numpy only)
                signal = apply_steps(signal, prep["sample_rate"], prep["steps"]).astype(np.float32)
            if prep.get("order_rpm"):  # last, as training resampled: the window then turns at order_rpm
                signal, rpm = to_orders(signal, rpm, prep["order_rpm"], f"{path}{part}"), prep["order_rpm"]
        except DataError as err:
            raise SkippedFile(str(err)) from None
        if signal.size < prep["window"]:
            raise SkippedFile(
                f"{path}{part} has {signal.size} samples at {prep['sample_rate']} Hz, fewer than the model's "
                f"window of {prep['window']}; pass longer recordings"
            )
        starts, x = window_batch(signal, prep["window"], prep["step"], prep["norm_mean"], prep["norm_std"])
        warning = read.warning.split(": ", 1)[-1] if read.warning else None
        out.append(Recording(name + part, starts, x, rpm, read.rate, read.source, warning))
    return out


def vibration_inputs(recording: Recording, prep: dict[str, Any], rows: slice) -> dict[str, np.ndarray]:
    """The model's named inputs for ``rows`` of a recording's windows."""
    x = recording.x[rows]
    inputs = {"x": np.ascontiguousarray(x)}
    if prep.get("uses_rpm"):
        rpm = np.nan if recording.rpm is None else recording.rpm
        inputs["rpm"] = np.full(len(x), rpm, dtype=np.float32)
    return inputs


def load_image(path: Path, prep: dict[str, Any]) -> tuple[np.ndarray, tuple[int, int]]:
    """(uint8 (H, W, C) at the model's size, the file's (height, width)), read as training read its images:
    colour, the '*' crop rule, resize. A colour image for a model trained on gray images (or the reverse) is
    an error, not a silent conversion."""
    from faultcli.data.crops import crop_rule_for
    from faultcli.data.images import process_image
    from faultcli.data.readers.images import decode_image, is_gray

    raw = decode_image(path)
    if raw is None:
        raise SkippedFile(f"{path} cannot be decoded as an image")
    channels, stored = int(prep["channels"]), 1 if raw.ndim == 2 else int(raw.shape[2])
    # a gray model reads gray files, also gray stored as RGB; a colour model reads 3-channel files
    if (channels == 1 and not is_gray(raw)) or (channels == 3 and stored != 3):
        kind = "colour" if channels == 1 else f"{stored}-channel"
        raise DataError(
            f"{path} is a {kind} image but the model was trained on {channels}-channel "
            f"{'gray' if channels == 1 else 'colour'} images; pass images of the kind it was trained on"
        )
    color = prep["color"] if prep["color"] != "auto" else ("gray" if channels == 1 else "rgb")
    image = process_image(raw, color, crop_rule_for(None, prep.get("crops", {})), prep["image_size"])
    return image, (int(raw.shape[0]), int(raw.shape[1]))


def image_inputs(images: list[np.ndarray], prep: dict[str, Any]) -> dict[str, np.ndarray]:
    """uint8 (H, W, C) images → the model's named inputs: x normalised per channel, the edge map in 0..1."""
    batch = np.stack(images).astype(np.float32) / 255.0  # (B, H, W, C)
    mean = np.asarray(prep["norm_mean"], dtype=np.float32)
    std = np.maximum(np.asarray(prep["norm_std"], dtype=np.float32), 1e-6)
    inputs = {"x": np.ascontiguousarray(((batch - mean) / std).transpose(0, 3, 1, 2))}
    edges = prep.get("edges")
    if edges:
        from faultcli.data.edges import edge_map

        maps = [edge_map(im, edges["sigma"], edges["clip_limit"], edges["tiles"]) for im in images]
        inputs["edge"] = (np.stack(maps)[:, None].astype(np.float32) / 255.0).astype(np.float32)
    return inputs


def chunks(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))
