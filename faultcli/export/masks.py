"""Segmentation outputs of ``faultcli predict``: per-class mask PNGs and an RLE CSV, written as images come."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from faultcli.data.rle import encode
from faultcli.export.outputs import CsvStream
from faultcli.runs import atomic_write_bytes
from faultcli.segmentation.postprocess import PostProcess, binarize


class MaskWriter:
    """The checkpoint's thresholds and minimum areas at the model's scale (where they were tuned), then the
    masks back at the file's size."""

    def __init__(self, out: Path, sidecar: dict[str, Any]) -> None:
        self.classes = list(sidecar["classes"])
        self.post = PostProcess.from_dict(sidecar["postprocess"])
        self.folder = Path(out) / "masks"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.rle = CsvStream(Path(out) / "predictions_rle.csv", ["ImageId", "ClassId", "EncodedPixels"])
        self.table = CsvStream(Path(out) / "predictions.csv", ["file", *[f"area_{c}" for c in self.classes]])

    def write(self, name: str, probs: np.ndarray, size: tuple[int, int]) -> list[str]:
        """Write one image's masks; returns the classes found in it."""
        height, width = size
        stem = Path(name).with_suffix("").as_posix().replace("/", "__")
        found, areas, rows = [], [], []
        for cls, small in zip(self.classes, binarize(probs, self.post), strict=True):
            mask = cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST)
            _, png = cv2.imencode(".png", mask * 255)
            atomic_write_bytes(self.folder / f"{stem}__{cls}.png", png.tobytes())
            areas.append(int(mask.sum()))
            if mask.any():
                found.append(cls)
                rows.append([name, cls, encode(mask)])
        self.rle.write(rows)
        self.table.write([[name, *areas]])
        return found

    def close(self) -> None:
        self.rle.close()
        self.table.close()
