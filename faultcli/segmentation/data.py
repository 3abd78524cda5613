"""A prepared segmentation dataset seen through one fold, normalised with fixed statistics."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from faultcli.config import Config
from faultcli.data.cache import NpyRows, RowsView
from faultcli.data.images import ImageDataset, prepare_images
from faultcli.data.loader import BatchLoader
from faultcli.data.splits import active_fold
from faultcli.errors import DataError
from faultcli.progress import Reporter
from faultcli.segmentation.inference import iter_predictions, to_tensor


@dataclass
class SegmentationData:
    """A prepared segmentation dataset seen through one fold, normalised with fixed statistics.

    Images and masks are read with ``os.pread`` (``cache.NpyRows``): resident memory stays flat however
    many of them training and evaluation read."""

    dataset: ImageDataset
    fold: int | None
    mean: list[float]
    std: list[float]
    image_rows: NpyRows = field(init=False, repr=False)
    mask_rows: NpyRows = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.image_rows, self.mask_rows = self.dataset.rows("images"), self.dataset.rows("masks")

    @property
    def classes(self) -> list[str]:
        return self.dataset.classes

    @property
    def image_size(self) -> tuple[int, int]:
        return tuple(int(s) for s in self.image_rows.shape[1:3])

    @property
    def channels(self) -> int:
        return int(self.image_rows.shape[3])

    def rows(self, split: str) -> np.ndarray:
        return self.dataset.indices(split, self.fold)

    def fetch(self, rows: np.ndarray) -> dict[str, torch.Tensor]:
        rows = np.asarray(rows)
        return {
            "x": to_tensor(self.image_rows[rows], self.mean, self.std),
            "mask": torch.from_numpy(self.mask_rows[rows]).float(),
        }

    def loader(self, split: str, batch_size: int, train: bool = False) -> BatchLoader:
        rows = self.rows(split)
        return BatchLoader(rows, self.fetch, batch_size, shuffle=train, drop_last=train and len(rows) > batch_size)

    def images_of(self, rows: np.ndarray) -> RowsView:
        """uint8 (H, W, C) per row, read when asked for: nothing is held."""
        return self.image_rows.view(rows)

    def masks_of(self, rows: np.ndarray) -> RowsView:
        """uint8 (K, H, W) per row, read when asked for."""
        return self.mask_rows.view(rows)

    def names(self, rows: np.ndarray) -> list[str]:
        """Image ids for outputs: the file name, or the path under data.root when names repeat."""
        files = self.dataset.items["file"].to_numpy()
        short = [Path(f).name for f in files]
        unique = len(set(short)) == len(short)
        return [short[r] if unique else str(files[r]) for r in rows]

    def info(self) -> dict[str, Any]:
        """What a checkpoint must remember to read new images as training did."""
        items = self.dataset.items
        source = (float(np.median(items["height"])), float(np.median(items["width"])))
        size = self.image_size
        manifest = self.dataset.manifest
        return {
            "mean": list(self.mean),
            "std": list(self.std),
            "image_size": list(size),
            "channels": self.channels,
            "color": manifest.get("color", "gray" if self.channels == 1 else "rgb"),
            "crops": dict(manifest.get("crops", {})),
            "scale": [size[0] / source[0], size[1] / source[1]],
        }


def segmentation_data(cfg: Config, reporter: Reporter, data_info: dict[str, Any] | None = None) -> SegmentationData:
    """Prepare (or reuse) the dataset; ``data_info`` (a checkpoint's) fixes the normalisation."""
    fold = active_fold(cfg.data.split, cfg.data.fold)
    dataset = prepare_images(cfg.data, "segmentation", reporter)
    if dataset.masks is None:
        raise DataError("the prepared dataset has no masks; check data.mask_dir or data.rle_csv, then run again")
    if data_info is not None:
        mean, std = list(data_info["mean"]), list(data_info["std"])
    else:
        mean, std = dataset.norm(fold)
    return SegmentationData(dataset, fold, mean, std)


def predict_rows(
    model: torch.nn.Module,
    data: SegmentationData,
    rows: np.ndarray,
    cfg: Config,
    device: torch.device,
    reporter: Reporter,
) -> Iterator[np.ndarray]:
    """Probabilities (K, H, W) of the dataset's ``rows`` at the training size, one image at a time."""
    return iter_predictions(
        model,
        data.images_of(rows),
        data.mean,
        data.std,
        tile=data.image_size,
        overlap=cfg.segmentation.tile_overlap,
        tta_flip=cfg.segmentation.tta_flip,
        batch_size=min(cfg.eval.batch_size, 64),
        device=device,
        reporter=reporter,
    )
