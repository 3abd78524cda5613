"""Vectorised batch functions over a prepared image dataset: a ``BatchLoader`` fetch calls them on
whole batches of rows, with no per-sample Python.

``images`` / ``edges`` are anything indexed by an array of rows: an array, a memory map, or (what training
passes) a ``cache.NpyRows`` reader, which reads each row with ``os.pread`` and so keeps resident memory flat
however much of the file a run reads."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from faultcli.data.cache import NpyRows


def image_batch(
    images: np.ndarray | NpyRows, rows: np.ndarray, mean: Sequence[float], std: Sequence[float]
) -> torch.Tensor:
    """uint8 (N, H, W, C) images at ``rows`` → float32 (B, C, H, W), ``(x / 255 - mean) / std`` per channel."""
    rows = np.asarray(rows, dtype=np.int64)
    x = torch.from_numpy(np.ascontiguousarray(images[rows])).permute(0, 3, 1, 2).float().div_(255.0)
    m = torch.as_tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    s = torch.as_tensor(std, dtype=torch.float32).clamp_min(1e-6).view(1, -1, 1, 1)
    return (x - m) / s


def edge_batch(edges: np.ndarray | NpyRows | None, rows: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W) edge maps → float32 (B, 1, H, W) in 0..1; an empty (B, 0) tensor without edges."""
    rows = np.asarray(rows, dtype=np.int64)
    if edges is None:
        return torch.empty((len(rows), 0), dtype=torch.float32)
    return torch.from_numpy(np.ascontiguousarray(edges[rows])).unsqueeze(1).float().div_(255.0)
