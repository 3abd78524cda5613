"""Pascal VOC XML annotations: bounding boxes and object names, one XML file per image."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from faultcli.errors import DataError
from faultcli.registry import register


@dataclass
class VocAnnotation:
    """One XML file: the image it names and its boxes ({label, xmin, ymin, xmax, ymax})."""

    xml: Path
    filename: str
    boxes: list[dict[str, int | str]] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        return [str(box["label"]) for box in self.boxes]


MAX_COORD = 1 << 20  # pixels: no image is wider; larger box coordinates are corrupt


def _number(node: ET.Element, tag: str, xml: Path) -> int:
    text = node.findtext(tag)
    try:
        value = float(text)  # some tools write 12.0
    except (TypeError, ValueError):
        value = float("nan")
    if not -0.5 < value < MAX_COORD:  # NaN, inf, 1e400 and negative pixels too
        raise DataError(
            f"VOC file {xml}: <{tag}> is {text!r}, not a pixel coordinate (0 to {MAX_COORD}); "
            "fix the box or remove the file"
        )
    return int(round(value))


def read_voc(path: Path) -> VocAnnotation:
    """Parse one VOC XML file; a file that is not VOC raises DataError naming it."""
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError, ValueError) as err:
        raise DataError(f"VOC file {path} is not readable XML ({err}); fix or exclude it") from None
    if root.tag != "annotation":
        raise DataError(f"{path} is not a Pascal VOC file (root <{root.tag}>, expected <annotation>)")
    filename = (root.findtext("filename") or "").strip()
    annotation = VocAnnotation(path, filename)
    for obj in root.iter("object"):
        box = obj.find("bndbox")
        name = (obj.findtext("name") or "").strip()
        if box is None or not name:
            raise DataError(f"VOC file {path}: an <object> lacks <name> or <bndbox>; fix or exclude the file")
        coords = {t: _number(box, t, path) for t in ("xmin", "ymin", "xmax", "ymax")}
        if coords["xmin"] > coords["xmax"] or coords["ymin"] > coords["ymax"]:
            raise DataError(
                f"VOC file {path}: box of {name!r} has xmin > xmax or ymin > ymax ({coords}); fix or exclude the file"
            )
        annotation.boxes.append({"label": name, **coords})
    return annotation


@register("reader", "voc")
def read_voc_folder(folder: Path) -> list[VocAnnotation]:
    """Every ``*.xml`` under ``folder`` (recursive, sorted)."""
    return [read_voc(p) for p in sorted(Path(folder).rglob("*.xml")) if not p.name.startswith(".")]


def match_annotations(
    annotations: list[VocAnnotation], image_rels: list[str]
) -> tuple[dict[str, VocAnnotation], list[VocAnnotation]]:
    """Pair annotations with images by stem: the XML's own name first (NEU's <filename> sometimes lacks the
    extension), else its <filename>. Returns image rel path → annotation, and annotations with no image."""
    by_stem: dict[str, list[str]] = {}
    for rel in image_rels:
        by_stem.setdefault(Path(rel).stem, []).append(rel)
    matched: dict[str, VocAnnotation] = {}
    orphans = []
    for ann in annotations:
        candidates = by_stem.get(ann.xml.stem) or by_stem.get(Path(ann.filename).stem if ann.filename else "", [])
        if len(candidates) == 1:
            matched[candidates[0]] = ann
        else:
            orphans.append(ann)
    return matched, orphans
