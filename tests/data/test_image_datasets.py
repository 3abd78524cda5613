"""torch Datasets over a prepared image dataset: shapes, dtypes, normalisation, edge and mask tensors."""

import cv2
import numpy as np
import torch

from faultcli.config.schema import DataConfig
from faultcli.data.image_datasets import ImageClassificationDataset, SegmentationDataset, edge_batch, image_batch
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


def test_classification_items(tmp_path):
    data = prepare_images(_cfg(_set(tmp_path), tmp_path, edges=True), "image-classification", NullReporter())
    ds = ImageClassificationDataset.for_split(data, "train")
    assert len(ds) == 6
    x, edge, y = ds[0]
    assert x.shape == (3, 12, 14) and x.dtype == torch.float32
    assert edge.shape == (1, 12, 14) and 0 <= edge.min() and edge.max() <= 1
    assert y.dtype == torch.int64 and int(y) == data.items["class_index"][ds.rows[0]]
    xs = torch.stack([ds[i][0] for i in range(len(ds))])
    assert torch.allclose(xs.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4)  # train-normalised
    assert torch.allclose(xs.std(dim=(0, 2, 3), unbiased=False), torch.ones(3), atol=1e-3)
    no_edges = ImageClassificationDataset.for_split(data, "test", with_edges=False)
    assert no_edges[0][1].numel() == 0


def test_batch_functions_match_items(tmp_path):
    data = prepare_images(_cfg(_set(tmp_path), tmp_path), "image-classification", NullReporter())
    mean, std = data.norm()
    rows = data.indices("train")
    batch = image_batch(data.images, rows, mean, std)
    ds = ImageClassificationDataset.for_split(data, "train")
    assert torch.equal(batch[2], ds[2][0])
    assert edge_batch(None, rows).shape == (len(rows), 0)


def test_segmentation_items(tmp_path):
    root = _set(tmp_path, masks=True)
    data = prepare_images(_cfg(root, tmp_path), "segmentation", NullReporter())
    ds = SegmentationDataset.for_split(data, "val")
    x, mask = ds[0]
    assert x.shape == (3, 12, 14) and mask.shape == (2, 12, 14) and mask.dtype == torch.float32
    assert mask.sum() == 18 and set(mask.unique().tolist()) == {0.0, 1.0}
