"""Crop rules: which part of an image a class keeps, applied before resizing, at prep and at inference.

A rule is ``none`` or ``<where>:<fraction>`` with where in center / left / right / top / bottom.
``center:0.6`` keeps the central 60 % of each side; ``left:0.5`` keeps the left half (full height).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from faultcli.errors import ConfigError

WHERE = ("center", "left", "right", "top", "bottom")
DEFAULT_KEY = "*"


def parse_crop_rule(rule: str) -> tuple[str, float]:
    """``'center:0.6'`` → ("center", 0.6); ``'none'`` → ("none", 1.0). Bad rules raise ConfigError."""
    text = rule.strip().lower()
    if text in ("", "none"):
        return "none", 1.0
    where, _, frac = text.partition(":")
    try:
        fraction = float(frac)
    except ValueError:
        fraction = -1.0
    if where not in WHERE or not 0.0 < fraction <= 1.0:
        raise ConfigError(
            f"data.crops rule {rule!r} is not valid; write 'none' or '<where>:<fraction>' with where in "
            f"{', '.join(WHERE)} and 0 < fraction ≤ 1 (e.g. 'center:0.6')"
        )
    return where, fraction


def crop_rule_for(class_name: str | None, crops: Mapping[str, str]) -> str:
    """The rule of ``class_name``, else the ``'*'`` rule, else ``'none'``; unlabelled images get ``'*'``."""
    if class_name is not None and class_name in crops:
        return crops[class_name]
    return crops.get(DEFAULT_KEY, "none")


def check_crops(crops: Mapping[str, str], classes: Iterable[str]) -> None:
    """Fail before reading pixels: every rule parses and every key is a class or ``'*'``."""
    known = set(classes)
    for key, rule in crops.items():
        if key != DEFAULT_KEY and key not in known:
            raise ConfigError(
                f"data.crops names class {key!r}, which is not among the classes ({', '.join(sorted(known))}); "
                "fix the name or use '*' for every other class"
            )
        parse_crop_rule(rule)


def apply_crop(image: np.ndarray, rule: str) -> np.ndarray:
    """Crop an (H, W[, C]) image by ``rule``; the result keeps at least one pixel per side."""
    where, fraction = parse_crop_rule(rule)
    if where == "none":
        return image
    height, width = image.shape[:2]
    keep_h = max(1, round(height * fraction))
    keep_w = max(1, round(width * fraction))
    if where == "center":
        top, left = (height - keep_h) // 2, (width - keep_w) // 2
        return image[top : top + keep_h, left : left + keep_w]
    if where == "left":
        return image[:, :keep_w]
    if where == "right":
        return image[:, width - keep_w :]
    if where == "top":
        return image[:keep_h]
    return image[height - keep_h :]  # bottom
