"""Mask probabilities for images of any size: whole-image passes, or overlapping tiles blended together.

Images no larger than the training size go through the model in batches. Larger ones (a 1600 × 256
strip for a model trained on 192 × 192) are cut into training-size tiles that overlap by
``overlap``; each tile's probabilities are weighted by a pyramid that falls towards the tile's edges
(where the network sees least context) and the weighted sum is normalised per pixel.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch import nn

from faultcli.progress import NullReporter, Reporter


def to_tensor(images: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """uint8 (N, H, W, C) → float32 (N, C, H, W), normalised with per-channel mean / std in 0..1 units."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)
    m = torch.tensor(list(mean), dtype=torch.float32).view(1, -1, 1, 1)
    s = torch.tensor(list(std), dtype=torch.float32).view(1, -1, 1, 1)
    return (x - m) / s


def tile_starts(size: int, tile: int, overlap: float) -> list[int]:
    """Start offsets of tiles of length ``tile`` covering ``size``; the last tile ends at ``size``."""
    if size <= tile:
        return [0]
    step = max(1, int(round(tile * (1.0 - overlap))))
    starts = list(range(0, size - tile, step))
    return starts + [size - tile]


def blend_weights(height: int, width: int) -> torch.Tensor:
    """(H, W) pyramid weights: 1 at the centre, falling linearly to > 0 at the border."""

    def ramp(n: int) -> torch.Tensor:
        i = torch.arange(n, dtype=torch.float32)
        return torch.minimum(i + 1, n - i) / ((n + 1) // 2)

    return ramp(height)[:, None] * ramp(width)[None, :]


@torch.no_grad()
def predict_batch(model: nn.Module, x: torch.Tensor, tta_flip: bool = False) -> torch.Tensor:
    """Sigmoid probabilities (B, K, H, W); with ``tta_flip`` averaged with the horizontally flipped pass."""
    probs = torch.sigmoid(model(x).float())
    if tta_flip:
        probs = 0.5 * (probs + torch.sigmoid(model(x.flip(-1)).float()).flip(-1))
    return probs


@torch.no_grad()
def predict_tiled(
    model: nn.Module,
    x: torch.Tensor,
    tile: tuple[int, int],
    overlap: float,
    tta_flip: bool = False,
    batch_size: int = 16,
) -> torch.Tensor:
    """Probabilities (K, H, W) of one image ``x`` (C, H, W), tile by tile when it exceeds ``tile``."""
    height, width = x.shape[-2:]
    th, tw = min(tile[0], height), min(tile[1], width)
    if (th, tw) == (height, width):
        return predict_batch(model, x[None], tta_flip)[0]
    boxes = [(y, x0) for y in tile_starts(height, th, overlap) for x0 in tile_starts(width, tw, overlap)]
    weight = blend_weights(th, tw).to(x.device)
    total, norm = None, torch.zeros(height, width, device=x.device)
    for start in range(0, len(boxes), batch_size):
        part = boxes[start : start + batch_size]
        crops = torch.stack([x[:, y : y + th, x0 : x0 + tw] for y, x0 in part])
        probs = predict_batch(model, crops, tta_flip)
        if total is None:
            total = torch.zeros(probs.shape[1], height, width, device=x.device)
        for (y, x0), p in zip(part, probs, strict=True):
            total[:, y : y + th, x0 : x0 + tw] += p * weight
            norm[y : y + th, x0 : x0 + tw] += weight
    return total / norm


def iter_predictions(
    model: nn.Module,
    images: Sequence[np.ndarray] | np.ndarray,
    mean: Sequence[float],
    std: Sequence[float],
    *,
    tile: tuple[int, int],
    overlap: float = 0.25,
    tta_flip: bool = False,
    batch_size: int = 16,
    device: torch.device | str = "cpu",
    reporter: Reporter | None = None,
) -> Iterator[np.ndarray]:
    """float32 (K, H, W) probabilities per uint8 (H, W, C) image, in order, one image at a time.

    Runs of same-size images no larger than ``tile`` go through the model together in batches;
    anything larger is tiled one image at a time. ``images`` may be lazy (memory-mapped rows):
    only one batch is in memory at once.
    """
    reporter = reporter or NullReporter()
    model.eval()
    device = torch.device(device)
    n = len(images)
    # no grad-mode context here: it would stay switched on in the caller while the generator is paused
    with reporter.task("predicting masks", n) as progress:
        i = 0
        while i < n:
            first = images[i]
            small = first.shape[0] <= tile[0] and first.shape[1] <= tile[1]
            j = i + 1
            if small:
                while j < n and j - i < batch_size and images[j].shape == first.shape:
                    j += 1
            x = to_tensor(np.stack([images[k] for k in range(i, j)]), mean, std).to(device)
            if small:
                probs = predict_batch(model, x, tta_flip)
            else:
                probs = predict_tiled(model, x[0], tile, overlap, tta_flip, batch_size)[None]
            progress.advance(j - i)
            yield from (p.cpu().numpy() for p in probs)
            i = j


def predict_images(
    model: nn.Module, images: Sequence[np.ndarray] | np.ndarray, mean: Sequence[float], std: Sequence[float], **kwargs
) -> list[np.ndarray]:
    """``iter_predictions`` collected into a list (small sets only: every probability map is kept)."""
    return list(iter_predictions(model, images, mean, std, **kwargs))
