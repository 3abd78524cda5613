"""Which images a recipe means, with their class, mask source and boxes, plus the consistency report
(files without labels, labels without files). Only lists and matches files: no pixel is decoded here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from faultcli.config.schema import DataConfig
from faultcli.data.readers.images import find_images, map_label, raw_label, read_image_folder
from faultcli.data.readers.labels_csv import labels_by_file, match_files, read_labels_csv
from faultcli.data.readers.masks import pair_masks, read_rle_csv
from faultcli.data.readers.voc import match_annotations, read_voc_folder
from faultcli.errors import ConfigError, DataError

NO_CLASS = "unlabelled"  # counts key of segmentation images without any mask (RLE data)
SINGLE_CLASS = "defect"  # the class of mask-folder data when data.label_from = "mask"


@dataclass
class Item:
    path: Path
    rel: str  # relative to data.root
    label: str | None
    mask: Path | None = None  # mask image (mask-folder segmentation)
    rle: list[tuple[str, str]] = field(default_factory=list)  # (class, run-length) (RLE segmentation)
    boxes: list[dict] | None = None  # VOC boxes


@dataclass
class Collected:
    items: list[Item]
    classes: list[str]
    report: dict[str, list[str]]
    extra_sources: list[Path]  # label CSVs, XML files, masks: their hashes join the cache key


def resolve_path(value: str, root: Path) -> Path:
    """A path from the recipe: as written (relative to the working folder), else relative to data.root."""
    path = Path(value)
    if path.is_absolute() or path.exists() or not (root / path).exists():
        return path
    return root / path


def _short(names: Sequence[str], n: int = 3) -> str:
    more = f" and {len(names) - n} more" if len(names) > n else ""
    return ", ".join(names[:n]) + more


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _classes(labels: Sequence[str | None], wanted: Sequence[str], allow_missing: bool = False) -> list[str]:
    found = sorted({label for label in labels if label is not None})
    if not found:
        raise DataError("no image got a class; check data.label_from (folder, prefix, regex, csv, mask) and data.root")
    if not wanted:
        return found
    missing = [c for c in wanted if c not in found]
    if missing and not allow_missing:
        raise DataError(
            f"data.classes lists {missing[0]!r}, but no image has that class (found: {_short(found, 8)}); "
            "fix data.classes or data.label_map"
        )
    return list(wanted)


def _all_rels(folder: Path, rels: list[str], cfg: DataConfig) -> list[str]:
    """Every image under ``folder``, include/exclude ignored: a label for an excluded image is not an orphan."""
    return [_rel(p, folder) for p in find_images(folder)] if cfg.include or cfg.exclude else rels


def _csv_labels(
    cfg: DataConfig, root: Path, rels: list[str], all_rels: list[str], report: dict, sources: list[Path]
) -> dict[str, str]:
    """image rel path → label from data.labels_csv; unmatched CSV rows go to the report."""
    path = resolve_path(cfg.labels_csv, root)
    rows = read_labels_csv(path)
    sources.append(path)
    by_file = labels_by_file(rows, cfg.label_priority)
    matched, unmatched = match_files(list(by_file), all_rels)
    report["labels_without_files"] += [f"{path.name}: {f}" for f in unmatched]
    return {rel: map_label(by_file[f], cfg.label_map) for rel, f in matched.items()}


def _labels(
    cfg: DataConfig, root: Path, rels: list[str], all_rels: list[str], report: dict, sources: list[Path]
) -> list[str | None]:
    if cfg.label_from == "csv":
        table = _csv_labels(cfg, root, rels, all_rels, report, sources)
        return [table.get(rel) for rel in rels]
    if cfg.label_from == "mask":
        return [SINGLE_CLASS] * len(rels)
    return [map_label(raw_label(rel, cfg.label_from, cfg.label_regex), cfg.label_map) for rel in rels]


def _keep_labelled(items: list[Item], classes: list[str], report: dict) -> list[Item]:
    kept = []
    for item in items:
        if item.label is None:
            report["files_without_labels"].append(item.rel)
        elif item.label in classes:
            kept.append(item)
        else:
            report["outside_classes"].append(item.rel)
    if items and not kept:  # e.g. eval on a folder holding none of the checkpoint's classes
        found = sorted({i.label for i in items if i.label is not None})
        raise DataError(
            f"no image has one of the classes {_short(classes, 6)} (found: {_short(found, 6) or 'none'}); "
            "check data.root and the label rule (data.label_from, data.label_map)"
        )
    return kept


def collect_classification(cfg: DataConfig, root: Path) -> Collected:
    """Images under data.root with their class; VOC XML files anywhere under root add boxes."""
    report: dict[str, list[str]] = {"files_without_labels": [], "labels_without_files": [], "outside_classes": []}
    if cfg.label_from == "mask":
        raise ConfigError("data.label_from = 'mask' is for segmentation; use folder, prefix, regex or csv")
    sources: list[Path] = []
    listing = read_image_folder(root, cfg.label_from, cfg.label_regex, cfg.label_map, cfg.include, cfg.exclude)
    rels = [_rel(p, root) for p in listing.files]
    all_rels = _all_rels(root, rels, cfg)
    labels = _labels(cfg, root, rels, all_rels, report, sources) if cfg.label_from == "csv" else listing.labels
    items = [Item(p, rel, label) for p, rel, label in zip(listing.files, rels, labels, strict=True)]
    annotations = read_voc_folder(root) if cfg.format in ("auto", "voc") else []
    if cfg.format == "voc" and not annotations:
        raise DataError(f"data.format = 'voc' but no .xml annotation is under {root}; put them there or use 'images'")
    if annotations:
        matched, orphans = match_annotations(annotations, all_rels)
        report["labels_without_files"] += [_rel(a.xml, root) for a in orphans]
        report["files_without_boxes"] = [rel for rel in rels if rel not in matched]
        for item in items:
            if item.rel in matched:
                item.boxes = matched[item.rel].boxes
        sources += [a.xml for a in annotations]
    classes = _classes([i.label for i in items], cfg.classes, cfg.allow_missing_classes)
    return Collected(_keep_labelled(items, classes, report), classes, report, sources)


def collect_segmentation(cfg: DataConfig, root: Path) -> Collected:
    """Images with a mask folder (paired by stem) or with an RLE CSV."""
    report: dict[str, list[str]] = {"files_without_labels": [], "labels_without_files": [], "outside_classes": []}
    if cfg.rle_csv:
        return _collect_rle(cfg, root, report)
    image_dir, mask_dir = root / cfg.image_dir, root / cfg.mask_dir
    if not image_dir.is_dir():
        raise DataError(f"image folder {image_dir} does not exist; set data.image_dir (relative to data.root)")
    pairs = pair_masks(image_dir, mask_dir, cfg.include, cfg.exclude)
    report["labels_without_files"] += [f"{cfg.mask_dir}/{m}" for m in pairs.masks_without_images]
    if pairs.images_without_masks:
        raise DataError(
            f"{len(pairs.images_without_masks)} image(s) in {image_dir} have no mask in {mask_dir} "
            f"({_short(pairs.images_without_masks)}); add masks with the same file stem or list them in data.exclude"
        )
    sources: list[Path] = []
    files = [image for image, _ in pairs.pairs]
    rels = [_rel(p, image_dir) for p in files]
    labels = _labels(cfg, root, rels, _all_rels(image_dir, rels, cfg), report, sources)
    items = [
        Item(image, _rel(image, root), label, mask=mask)
        for (image, mask), label in zip(pairs.pairs, labels, strict=True)
    ]
    sources += [mask for _, mask in pairs.pairs]
    classes = _classes(labels, cfg.classes, cfg.allow_missing_classes)
    return Collected(_keep_labelled(items, classes, report), classes, report, sources)


def _collect_rle(cfg: DataConfig, root: Path, report: dict) -> Collected:
    if cfg.label_from != "mask":
        raise ConfigError("data.rle_csv gives classes by ClassId; set data.label_from = 'mask'")
    path = resolve_path(cfg.rle_csv, root)
    rows = read_rle_csv(path)
    image_dir = root / cfg.image_dir if (root / cfg.image_dir).is_dir() else root
    listing = read_image_folder(image_dir, "mask", "", {}, cfg.include, cfg.exclude)
    rels = [_rel(p, image_dir) for p in listing.files]
    matched, unmatched = match_files(sorted({r.image for r in rows}), _all_rels(image_dir, rels, cfg))
    report["labels_without_files"] += [f"{path.name}: {f}" for f in unmatched]
    by_image: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        by_image.setdefault(row.image, []).append((map_label(row.class_id, cfg.label_map), row.rle))
    ids = sorted({c for pairs in by_image.values() for c, _ in pairs}, key=lambda c: (not c.isdigit(), c.zfill(9)))
    classes = list(cfg.classes) if cfg.classes else ids
    if not classes:
        raise DataError(f"RLE CSV {path} has no rows; add ImageId,ClassId,EncodedPixels rows")
    _classes(ids, classes)  # every listed class must occur
    items = []
    for file, rel in zip(listing.files, rels, strict=True):
        pairs = [(c, rle) for c, rle in by_image.get(matched.get(rel, ""), []) if c in classes]
        if rel not in matched:
            report["files_without_labels"].append(_rel(file, root))  # kept: no row = no defect
        # the class used for stratifying: the first non-empty mask in class order
        present = sorted({c for c, rle in pairs if rle}, key=classes.index)
        items.append(Item(file, _rel(file, root), present[0] if present else None, rle=pairs))
    return Collected(items, classes, report, [path])
