"""A torch ``Dataset`` over the windows of a prepared vibration dataset."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from faultcli.data.vibration import VibrationDataset


class WindowDataset(Dataset):
    """Items ``(x, y, rpm)``: x float32 (1, window) normalised, y int64 class index, rpm float32 (NaN unknown)."""

    def __init__(self, data: VibrationDataset, rows: np.ndarray, mean: float, std: float) -> None:
        self.data, self.rows = data, np.asarray(rows, dtype=np.int64)
        self.mean, self.std = float(mean), float(std) if std > 0 else 1.0

    @classmethod
    def for_split(cls, data: VibrationDataset, split: str, fold: int | None = None) -> WindowDataset:
        """The windows of ``split``, normalised with the train statistics stored in the manifest."""
        mean, std = data.norm(fold)
        return cls(data, data.indices(split, fold), mean, std)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        row = self.rows[i : i + 1]
        x = (self.data.signals_for(row)[0] - self.mean) / self.std
        y = int(self.data.labels_for(row)[0])
        rpm = float(self.data.rpm_for(row)[0])
        return (
            torch.from_numpy(x.astype(np.float32)).unsqueeze(0),
            torch.tensor(y, dtype=torch.int64),
            torch.tensor(rpm, dtype=torch.float32),
        )
