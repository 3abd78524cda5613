"""The windows pretrained on: the recipe's train split (never val or test) and, optionally, folders of
unlabelled recordings read like it. Val and test stay labelled, for the k-NN probe."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from faultcli.adapt.unlabelled import content_order, read_unlabelled, recordings_manifest, unlabelled_fetch
from faultcli.classification.data import ClassificationData
from faultcli.config import Config
from faultcli.data.loader import BatchLoader
from faultcli.errors import DataError
from faultcli.progress import Reporter

UNLABELLED = -1  # the label of a window from an extra folder


@dataclass
class Pool:
    """Pool rows 0..n-1 over the recipe's train windows, then each extra folder's windows."""

    labelled: ClassificationData  # the recipe's data: train windows (with labels) in the pool, val / test probes
    sources: list[tuple[np.ndarray, Any, bool]] = field(default_factory=list)  # (rows, fetch, labelled)
    manifest: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return sum(len(rows) for rows, _, _ in self.sources)

    @property
    def unlabelled(self) -> int:
        return sum(len(rows) for rows, _, labelled in self.sources if not labelled)

    def rows(self, split: str) -> np.ndarray:
        return np.arange(len(self)) if split == "train" else self.labelled.rows(split)

    def fetch(self, pool_rows: np.ndarray) -> dict[str, Any]:
        """A batch of pool windows in the order asked: x, y (-1 for unlabelled windows), extra rpm."""
        pool_rows = np.asarray(pool_rows, dtype=np.int64)
        starts = np.cumsum([0] + [len(rows) for rows, _, _ in self.sources])
        xs, ys, rpms, order = [], [], [], []
        for k, (rows, fetch, labelled) in enumerate(self.sources):
            picked = np.flatnonzero((pool_rows >= starts[k]) & (pool_rows < starts[k + 1]))
            if not picked.size:
                continue
            batch = fetch(rows[pool_rows[picked] - starts[k]])
            xs.append(batch["x"])
            rpms.append(batch["extra"]["rpm"])
            ys.append(batch["y"] if labelled else torch.full((picked.size,), UNLABELLED, dtype=torch.int64))
            order.append(picked)
        back = torch.from_numpy(np.argsort(np.concatenate(order)))
        return {
            "x": torch.cat(xs)[back],
            "y": torch.cat(ys)[back],
            "extra": {"rpm": torch.cat(rpms)[back]},
        }

    def loader(self, batch_size: int) -> BatchLoader:
        rows = np.arange(len(self))
        return BatchLoader(rows, self.fetch, batch_size, shuffle=True, drop_last=len(rows) > batch_size)


def build_pool(cfg: Config, labelled: ClassificationData, reporter: Reporter) -> Pool:
    """The recipe's train windows plus every ``pretrain.extra_roots`` folder, normalised with the train
    split's statistics (those the finetune of the same recipe uses)."""
    train = labelled.rows("train")
    if len(train) == 0:
        raise DataError("the recipe's train split holds no window to pretrain on; check data.split and data.fractions")
    ds = labelled.dataset
    pool = Pool(labelled, [(train, labelled.fetch, True)], recordings_manifest(ds, train, "train split"))
    mean, std = float(labelled.data_info["norm_mean"]), float(labelled.data_info["norm_std"])
    for root in cfg.pretrain.extra_roots:
        extra = read_unlabelled(
            cfg.data,
            root,
            cfg.pretrain.extra_include,
            cfg.pretrain.extra_rate,
            reporter,
            "pretrain.extra_roots",
            "pretrain.extra_rate",
        )
        rows = content_order(extra, extra.indices("all"))
        pool.sources.append((rows, unlabelled_fetch(extra, mean, std), False))
        pool.manifest += recordings_manifest(extra, rows, "extra folder")
        reporter.info(f"pool: {len(rows)} unlabelled windows from {root}")
    return pool
