"""Prepared image datasets: read, crop, resize, split and cache images (and masks, edge maps) once.

``prepare_images`` writes ``<cache>/images/<key>/`` (images.npy, edges.npy, masks.npy, items.csv,
manifest.json; see docs/architecture.md) one item at a time (``image_stream``), and ``ImageDataset.load``
reads it back: memory-mapped arrays, and ``rows(name)`` readers that fetch items with ``os.pread`` for
training, so pages read do not stay in resident memory. ``load_image`` is the per-image path shared with
inference: decode → colour → crop rule → resize.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from faultcli.config.schema import DataConfig
from faultcli.data.cache import NpyRows, cache_root, dataset_key, file_sha1, publish_folder, staging_dir
from faultcli.data.crops import check_crops
from faultcli.data.image_items import NO_CLASS, Collected, collect_classification, collect_segmentation
from faultcli.data.image_splits import SPLIT_CODES, split_info
from faultcli.data.image_stream import process_image, resize, stream_images, write_edge_maps
from faultcli.data.readers.images import decode_image
from faultcli.errors import ConfigError, DataError
from faultcli.progress import NullReporter, Reporter
from faultcli.runs import atomic_write_json

__all__ = ["ImageDataset", "check_image_config", "load_image", "prepare_images", "process_image", "resize"]
FORMAT_VERSION = 1  # bump when the files written here change meaning
IMAGE_TASKS = ("image-classification", "segmentation")
REPORT_NOTES = {
    "files_without_labels": "image(s) without a label",
    "labels_without_files": "label(s) or annotation(s) without an image",
    "outside_classes": "image(s) of classes not in data.classes, left out",
    "files_without_boxes": "image(s) without a VOC annotation",
    "undecodable": "undecodable image(s), skipped",
}


# ----------------------------------------------------------------------------- one image


def load_image(path: Path, color: str, crop_rule: str = "none", image_size: list[int] | None = None) -> np.ndarray:
    """Read one image exactly as ``prepare_images`` does: uint8 (H, W, C), C = 1 (gray) or 3 (rgb).

    For a model's input pass the dataset manifest's ``color``, ``image_size`` and
    ``crop_rule_for(class_or_None, manifest["crops"])``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"image {path} not found; pass an existing image file")
    image = decode_image(path)
    if image is None:
        raise DataError(f"image {path} cannot be decoded; check that it is a valid jpg/png/bmp/tif file")
    return process_image(image, color, crop_rule, image_size)


# ----------------------------------------------------------------------------- the prepared dataset


@dataclass
class ImageDataset:
    """A prepared image dataset, arrays memory-mapped from its cache folder.

    Code that reads many items (training batches, evaluation) reads them through ``rows(name)``: a mapped
    page that was read counts in the process's resident memory, a ``pread`` one stays in the page cache.
    """

    path: Path
    manifest: dict[str, Any]
    items: pd.DataFrame
    images: np.ndarray  # uint8 (N, H, W, C)
    edges: np.ndarray | None = None  # uint8 (N, H, W) in {0, 255}
    masks: np.ndarray | None = None  # uint8 (N, K, H, W) in {0, 1}
    cache_hit: bool = False

    @property
    def classes(self) -> list[str]:
        return list(self.manifest["classes"])

    def rows(self, name: str) -> NpyRows | None:
        """Row reader of ``images``, ``edges`` or ``masks`` (``None`` when the dataset has none)."""
        if name not in ("images", "edges", "masks"):
            raise ValueError(f"name must be images, edges or masks, got {name!r}")
        path = self.path / f"{name}.npy"
        return NpyRows(path) if path.is_file() else None

    @classmethod
    def load(cls, folder: Path) -> ImageDataset:
        folder = Path(folder)
        if not (folder / "manifest.json").is_file():
            raise DataError(f"{folder} is not a prepared image dataset (no manifest.json); run faultcli prep")
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        items = pd.read_csv(folder / "items.csv", dtype={"label": str, "file": str}, keep_default_na=False)

        def optional(name: str) -> np.ndarray | None:
            path = folder / name
            return np.load(path, mmap_mode="r") if path.is_file() else None

        return cls(
            folder,
            manifest,
            items,
            np.load(folder / "images.npy", mmap_mode="r"),
            optional("edges.npy"),
            optional("masks.npy"),
        )

    def indices(self, split: str, fold: int | None = None) -> np.ndarray:
        """Item rows of ``split`` (train / val / test / all). kfold: test = fold k, val = fold k+1, train = rest."""
        codes = self.items["split"].to_numpy()
        if split == "all":
            return np.arange(len(codes))
        if split not in SPLIT_CODES:
            raise ValueError(f"split must be train, val, test or all, got {split!r}")
        if self.manifest["split"] != "kfold":
            return np.flatnonzero(codes == SPLIT_CODES[split])
        fold = self._fold(fold)
        folds = int(self.manifest["folds"])
        test, val = codes == fold, codes == (fold + 1) % folds
        picked = {"test": test, "val": val, "train": ~(test | val)}[split]
        return np.flatnonzero(picked)

    def _fold(self, fold: int | None) -> int:
        return int(self.manifest.get("fold", 0) if fold is None else fold)

    def norm(self, fold: int | None = None) -> tuple[list[float], list[float]]:
        """Per-channel (mean, std) in 0..1 units of the training images (of ``fold`` for kfold)."""
        stats = (
            self.manifest["norm_folds"][self._fold(fold)]
            if self.manifest["split"] == "kfold"
            else self.manifest["norm"]
        )
        return list(stats["mean"]), list(stats["std"])

    def labels_for(self, rows: np.ndarray) -> np.ndarray:
        """int64 class index per row (-1: segmentation image without any mask)."""
        return self.items["class_index"].to_numpy(dtype=np.int64)[np.asarray(rows, dtype=np.int64)]


# ----------------------------------------------------------------------------- prepare


def check_image_config(cfg: DataConfig, task: str) -> Path:
    """Checks that need no pixel; returns data.root as a Path."""
    if task not in IMAGE_TASKS:
        raise ConfigError(f"task {task!r} is not an image task; use image-classification or segmentation")
    if cfg.split in ("recording-time", "by-condition"):
        raise ConfigError(
            f"data.split = {cfg.split!r} has no meaning for images; set data.split = 'stratified' (or 'kfold')"
        )
    if cfg.format not in ("auto", "images", "masks", "voc"):
        raise ConfigError(f"data.format = {cfg.format!r} is a vibration format; use auto, images, masks or voc")
    if cfg.label_from == "csv" and not cfg.labels_csv:
        raise ConfigError("data.label_from = 'csv' needs data.labels_csv (a CSV with columns file,label[,value])")
    if len(set(cfg.classes)) != len(cfg.classes):
        raise ConfigError(f"data.classes = {cfg.classes} lists a class twice; list each class once")
    if not cfg.root:
        raise ConfigError("data.root is empty; set it to the folder holding the images")
    root = Path(cfg.root)
    if not root.is_dir():
        raise DataError(f"data.root = {cfg.root} is not a folder (from {Path.cwd()}); fix the path")
    return root


def prepare_images(data_cfg: DataConfig, task: str, reporter: Reporter | None = None) -> ImageDataset:
    """Prepare (or reuse from the cache) the dataset of an image-classification or segmentation recipe."""
    reporter = reporter or NullReporter()
    root = check_image_config(data_cfg, task)
    collect = collect_segmentation if task == "segmentation" else collect_classification
    collected = collect(data_cfg, root)
    check_crops(data_cfg.crops, collected.classes)
    image_sha1, hashes = _hash_sources(collected, root, reporter)
    key = dataset_key("images", dataclasses.asdict(data_cfg), hashes, {"task": task, "version": FORMAT_VERSION})
    final = cache_root(data_cfg.cache_dir) / "images" / key
    if (final / "manifest.json").is_file():
        reporter.info(f"reusing prepared dataset {final}")
        return dataclasses.replace(ImageDataset.load(final), cache_hit=True)
    staging = staging_dir(final.parent)
    try:
        _build(data_cfg, task, root, collected, image_sha1, hashes, key, staging, reporter)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    publish_folder(staging, final)
    reporter.info(f"prepared {task} dataset in {final}")
    return ImageDataset.load(final)


def _hash_sources(collected: Collected, root: Path, reporter: Reporter) -> tuple[list[str], list[str]]:
    """SHA-1 of each image (in item order), and ``rel:sha1`` strings of every source for the cache key."""
    extra = sorted(set(collected.extra_sources))
    image_sha1, hashes = [], []
    with reporter.task("hashing files", total=len(collected.items) + len(extra)) as task:
        for item in collected.items:
            image_sha1.append(file_sha1(item.path))
            hashes.append(f"{item.rel}:{image_sha1[-1]}")
            task.advance()
        for path in extra:
            full, base = path.resolve(), root.resolve()
            name = full.relative_to(base).as_posix() if full.is_relative_to(base) else path.name
            hashes.append(f"{name}:{file_sha1(path)}")
            task.advance()
    return image_sha1, hashes


def _build(
    cfg: DataConfig,
    task: str,
    root: Path,
    collected: Collected,
    image_sha1: list[str],
    hashes: list[str],
    key: str,
    out: Path,
    reporter: Reporter,
) -> None:
    """Read every image and write the dataset files into ``out`` (manifest last), one item at a time."""
    streamed = stream_images(cfg, task, collected, out, reporter)
    kept, sizes, undecodable, shape = streamed.kept, streamed.sizes, streamed.undecodable, streamed.images_shape
    items = [collected.items[k] for k in kept]
    classes = collected.classes
    class_index = np.array([classes.index(i.label) if i.label is not None else -1 for i in items], dtype=np.int64)
    labels = [i.label if i.label is not None else NO_CLASS for i in items]
    codes, splits = split_info(cfg, task, NpyRows(out / "images.npy"), labels, classes)
    if cfg.edges:
        write_edge_maps(out / "images.npy", out / "edges.npy", cfg.edge_sigma, reporter)
    pd.DataFrame(
        {
            "item": np.arange(len(items)),
            "file": [i.rel for i in items],
            "sha1": [image_sha1[k] for k in kept],
            "label": [i.label or "" for i in items],
            "class_index": class_index,
            "split": codes,
            "height": [s[0] for s in sizes],
            "width": [s[1] for s in sizes],
        }
    ).to_csv(out / "items.csv", index=False)
    manifest: dict[str, Any] = {
        "kind": "images",
        "task": task,
        "key": key,
        "format_version": FORMAT_VERSION,
        "classes": classes,
        "root": str(root.resolve()),
        "fractions": list(cfg.fractions),
        "seed": cfg.seed,
        "image_size": list(shape[1:3]),
        "channels": int(shape[3]),
        "color": "gray" if shape[3] == 1 else "rgb",
        "crops": dict(cfg.crops),
        "edges": bool(cfg.edges),
        "edge_sigma": cfg.edge_sigma,
        "masks": streamed.has_masks,
        "sources": [{"file": h.rsplit(":", 1)[0], "sha1": h.rsplit(":", 1)[1]} for h in hashes],
        "report": {**collected.report, "undecodable": undecodable},
        **splits,
    }
    boxes = {i.rel: i.boxes for i in items if i.boxes is not None}
    if boxes:
        manifest["boxes"] = boxes
    notes = manifest.pop("notes", []) + [
        f"{len(v)} {REPORT_NOTES.get(k, k)} (first: {v[0]}); see the manifest's report"
        for k, v in manifest["report"].items()
        if v
    ]
    if notes:
        manifest["notes"] = notes
    atomic_write_json(out / "manifest.json", manifest)  # last: its presence marks a complete folder
