"""torch ``Dataset``s over a prepared image dataset, plus the vectorised batch functions they use
(a ``BatchLoader`` fetch can call ``image_batch`` / ``edge_batch`` / ``mask_batch`` on whole batches)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from faultcli.data.images import ImageDataset


def image_batch(images: np.ndarray, rows: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """uint8 (N, H, W, C) images at ``rows`` → float32 (B, C, H, W), ``(x / 255 - mean) / std`` per channel."""
    rows = np.asarray(rows, dtype=np.int64)
    x = torch.from_numpy(np.ascontiguousarray(images[rows])).permute(0, 3, 1, 2).float().div_(255.0)
    m = torch.as_tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    s = torch.as_tensor(std, dtype=torch.float32).clamp_min(1e-6).view(1, -1, 1, 1)
    return (x - m) / s


def edge_batch(edges: np.ndarray | None, rows: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W) edge maps → float32 (B, 1, H, W) in 0..1; an empty (B, 0) tensor without edges."""
    rows = np.asarray(rows, dtype=np.int64)
    if edges is None:
        return torch.empty((len(rows), 0), dtype=torch.float32)
    return torch.from_numpy(np.ascontiguousarray(edges[rows])).unsqueeze(1).float().div_(255.0)


def mask_batch(masks: np.ndarray, rows: np.ndarray) -> torch.Tensor:
    """uint8 (N, K, H, W) masks in {0, 1} → float32 (B, K, H, W)."""
    return torch.from_numpy(np.ascontiguousarray(masks[np.asarray(rows, dtype=np.int64)])).float()


class ImageClassificationDataset(Dataset):
    """Items ``(x, edge, y)``: x float32 (C, H, W) normalised, edge float32 (1, H, W) in 0..1 or an empty
    tensor, y int64 class index."""

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        rows: np.ndarray,
        mean: Sequence[float],
        std: Sequence[float],
        edges: np.ndarray | None = None,
    ) -> None:
        self.images, self.edges = images, edges
        self.labels = np.asarray(labels, dtype=np.int64)
        self.rows = np.asarray(rows, dtype=np.int64)
        self.mean, self.std = list(mean), list(std)

    @classmethod
    def for_split(
        cls, data: ImageDataset, split: str, fold: int | None = None, with_edges: bool = True
    ) -> ImageClassificationDataset:
        """The images of ``split``, normalised with the train statistics stored in the manifest."""
        mean, std = data.norm(fold)
        labels = data.items["class_index"].to_numpy(dtype=np.int64)
        return cls(data.images, labels, data.indices(split, fold), mean, std, data.edges if with_edges else None)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        row = self.rows[i : i + 1]
        x = image_batch(self.images, row, self.mean, self.std)[0]
        edge = edge_batch(self.edges, row)[0]
        return x, edge, torch.tensor(self.labels[row[0]], dtype=torch.int64)


class SegmentationDataset(Dataset):
    """Items ``(x, mask)``: x float32 (C, H, W) normalised, mask float32 (K, H, W) in {0, 1}."""

    def __init__(
        self, images: np.ndarray, masks: np.ndarray, rows: np.ndarray, mean: Sequence[float], std: Sequence[float]
    ) -> None:
        self.images, self.masks = images, masks
        self.rows = np.asarray(rows, dtype=np.int64)
        self.mean, self.std = list(mean), list(std)

    @classmethod
    def for_split(cls, data: ImageDataset, split: str, fold: int | None = None) -> SegmentationDataset:
        if data.masks is None:
            raise ValueError(f"{data.path} holds no masks; prepare it with task = 'segmentation'")
        mean, std = data.norm(fold)
        return cls(data.images, data.masks, data.indices(split, fold), mean, std)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        row = self.rows[i : i + 1]
        return image_batch(self.images, row, self.mean, self.std)[0], mask_batch(self.masks, row)[0]
