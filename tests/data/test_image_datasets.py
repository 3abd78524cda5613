"""torch Datasets over a prepared image dataset: shapes, dtypes, normalisation, edge and mask tensors."""

import cv2
import numpy as np
import torch

from faultcli.config.schema import DataConfig
from faultcli.data.image_datasets import edge_batch, image_batch
from faultcli.data.images import prepare_images
from faultcli.progress import NullReporter


def _set(tmp_path, masks=False):
    rng = np.random.default_rng(0)
    for prefix in ("In", "Pa"):
        for n in range(1, 6):
            cv2.imwrite(
                str(_mk(tmp_path / "d" / "images" / f"{prefix}_{n}.png")),
                rng.integers(0, 255, (12, 14, 3), dtype=np.uint8),
            )
            if masks:
                m = np.zeros((12, 14), dtype=np.uint8)
                m[2:5, 3:9] = 255
                cv2.imwrite(str(_mk(tmp_path / "d" / "masks" / f"{prefix}_{n}.png")), m)
    return tmp_path / "d"


def _mk(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _cfg(root, tmp_path, **kw):
    return DataConfig(
        root=str(root),
        cache_dir=str(tmp_path / "c"),
        label_from="prefix",
        split="stratified",
        fractions=[0.6, 0.2, 0.2],
        **kw,
    )


def test_image_batch_is_train_normalised_and_edges_in_unit_range(tmp_path):
    data = prepare_images(_cfg(_set(tmp_path), tmp_path, edges=True), "image-classification", NullReporter())
    mean, std = data.norm()
    rows = data.indices("train")
    x = image_batch(data.images, rows, mean, std)
    assert x.shape == (len(rows), 3, 12, 14) and x.dtype == torch.float32
    assert torch.allclose(x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4)
    assert torch.allclose(x.std(dim=(0, 2, 3), unbiased=False), torch.ones(3), atol=1e-3)
    edge = edge_batch(data.edges, rows)
    assert edge.shape == (len(rows), 1, 12, 14) and 0 <= edge.min() and edge.max() <= 1
    assert edge_batch(None, rows).shape == (len(rows), 0)


def test_batches_read_through_row_readers_equal_the_memory_mapped_ones(tmp_path):
    data = prepare_images(_cfg(_set(tmp_path), tmp_path, edges=True), "image-classification", NullReporter())
    mean, std = data.norm()
    rows = data.indices("train")[::-1]
    assert torch.equal(image_batch(data.rows("images"), rows, mean, std), image_batch(data.images, rows, mean, std))
    assert torch.equal(edge_batch(data.rows("edges"), rows), edge_batch(data.edges, rows))
