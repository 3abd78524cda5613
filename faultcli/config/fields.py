"""Schema field helpers: a dataclass field carrying its help text and the checks ``config.load`` applies."""

from __future__ import annotations

import types
from dataclasses import field
from typing import Any

MAX_RATE = 10_000_000  # Hz: the highest sampling rate a recipe may name


def opt(
    default: Any,
    help: str,
    *,
    choices: tuple[Any, ...] | None = None,
    registry: str | None = None,
    min: float | None = None,
    max: float | None = None,
    factory: bool = False,
) -> Any:
    """A dataclass field with help text and the checks ``config.load`` applies to it. ``registry`` names
    the registry kind whose names are the allowed values (of each item, for a list): a new loss, task or
    branch is then one new file, not an edit here."""
    meta = {"help": help, "choices": choices, "registry": registry, "min": min, "max": max}
    if factory:
        return field(default_factory=default, metadata=meta)
    return field(default=default, metadata=meta)


def moved(default: Any, help: str, was: str, **checks: Any) -> Any:
    """A task-section field that earlier recipes set as ``was`` (e.g. ``model.branches``): the loader
    names its new place when a recipe still writes the old one, and moves it in stored checkpoints."""
    f = opt(default, help, **checks)
    f.metadata = types.MappingProxyType({**f.metadata, "was": was})
    return f
