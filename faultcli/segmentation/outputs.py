"""Files a segmentation writes: overlay PNGs, one mask PNG per image and class, and an RLE CSV."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from faultcli.data.rle import encode
from faultcli.runs import atomic_write_bytes, atomic_write_text

# BGR colours per class (cycled): red, green, blue, yellow, magenta, cyan
COLORS = ((60, 60, 230), (60, 200, 60), (230, 120, 40), (40, 220, 240), (220, 60, 220), (220, 220, 60))


def write_png(path: Path, image: np.ndarray) -> Path:
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise ValueError(f"cannot encode {path.name} as PNG")
    atomic_write_bytes(path, data.tobytes())
    return path


def _bgr(image: np.ndarray) -> np.ndarray:
    image = image if image.ndim == 3 else image[:, :, None]
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)


def paint(image: np.ndarray, masks: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """Colour each class's mask (K, H, W) over a uint8 (H, W, C) image, outlined; returns BGR."""
    out = _bgr(image).astype(np.float32)
    outline = np.zeros(out.shape[:2], dtype=bool)
    for k, mask in enumerate(masks):
        on = mask.astype(bool)
        if not on.any():
            continue
        color = np.array(COLORS[k % len(COLORS)], dtype=np.float32)
        out[on] = (1 - alpha) * out[on] + alpha * color
        edge = on & ~cv2.erode(on.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        out[edge] = color
        outline |= edge
    return out.clip(0, 255).astype(np.uint8)


def overlay_png(
    path: Path, image: np.ndarray, pred: np.ndarray, true: np.ndarray | None, classes: Sequence[str]
) -> Path:
    """Side by side: image | true mask (when known) | predicted mask, with a colour legend below."""
    panels = [
        ("image", _bgr(image)),
        *([("true", paint(image, true))] if true is not None else []),
        ("predicted", paint(image, pred)),
    ]
    height, width = panels[0][1].shape[:2]
    zoom = -(-192 // width) if width < 192 else 1  # small images are enlarged so the overlay stays readable
    if zoom > 1:
        panels = [
            (name, cv2.resize(p, (width * zoom, height * zoom), interpolation=cv2.INTER_NEAREST)) for name, p in panels
        ]
        height, width = height * zoom, width * zoom
    gap = 4
    row = np.full((height, len(panels) * (width + gap) - gap, 3), 255, np.uint8)
    for i, (_, panel) in enumerate(panels):
        row[:, i * (width + gap) : i * (width + gap) + width] = panel
    scale = max(0.35, min(width, 400) / 500)
    line = int(22 * scale / 0.4)
    legend = np.full((line * 2, row.shape[1], 3), 255, np.uint8)
    titles = "   |   ".join(name for name, _ in panels)
    cv2.putText(legend, titles, (4, int(line * 0.8)), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
    x = 4
    for k, name in enumerate(classes):
        cv2.rectangle(legend, (x, line + 4), (x + 12, line + 16), COLORS[k % len(COLORS)], -1)
        cv2.putText(legend, name, (x + 16, line + 15), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
        x += 24 + int(len(name) * 11 * scale / 0.4)
    return write_png(path, np.vstack([row, legend]))


def write_mask_pngs(folder: Path, stem: str, masks: np.ndarray, classes: Sequence[str]) -> list[Path]:
    """``folder/<class>/<stem>.png`` (0/255) per class, the layout the mask-folder reader takes back."""
    return [
        write_png(Path(folder) / name / f"{stem}.png", (m > 0).astype(np.uint8) * 255)
        for name, m in zip(classes, masks, strict=True)
    ]


def rle_rows(name: str, masks: np.ndarray, classes: Sequence[str]) -> list[dict[str, str]]:
    """One row per class of one image (empty EncodedPixels = no defect), as Severstal submissions are written."""
    return [
        {"ImageId": name, "ClassId": cls, "EncodedPixels": encode(m)} for cls, m in zip(classes, masks, strict=True)
    ]


def rle_table(names: Sequence[str], masks: Sequence[np.ndarray], classes: Sequence[str]) -> pd.DataFrame:
    rows = [row for name, m in zip(names, masks, strict=True) for row in rle_rows(name, m, classes)]
    return pd.DataFrame(rows, columns=["ImageId", "ClassId", "EncodedPixels"])


def write_rle_csv(path: Path, names: Sequence[str], masks: Sequence[np.ndarray], classes: Sequence[str]) -> Path:
    atomic_write_text(Path(path), rle_table(names, masks, classes).to_csv(index=False))
    return Path(path)
