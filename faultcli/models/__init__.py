"""Models. Importing this package runs every registration (branches, fusions, heads, models).

``create_model(name, **kwargs)`` builds a registered model from flat keyword arguments, passing each
builder only those it takes; ``unused_settings`` names the ones it would drop, so a recipe setting
that the chosen model cannot use is refused before training rather than ignored.
"""

from __future__ import annotations

import inspect
from typing import Any

# Imported for their registrations; timm and smp are imported only when an image model is built.
from faultcli.models import (  # noqa: F401
    band_linear,
    branches,
    clip,  # noqa: F401
    envelope_linear,
    fusion,
    heads,
    multimodal,
    vision,
    wdcnn,
)
from faultcli.models.vision import segmentation  # noqa: F401
from faultcli.registry import available, lookup


def _takes_all(builder: Any) -> bool:
    return any(p.kind is p.VAR_KEYWORD for p in inspect.signature(builder).parameters.values())


def unused_settings(name: str, kwargs: dict[str, Any]) -> list[str]:
    """The keys of ``kwargs`` that the builder of model ``name`` does not take."""
    builder = lookup("model", name)
    if _takes_all(builder):
        return []
    return [k for k in kwargs if k not in inspect.signature(builder).parameters]


def create_model(name: str, **kwargs: Any) -> Any:
    """The registered model ``name``; an unknown name raises ConfigError listing the valid ones."""
    builder = lookup("model", name)
    unused = set(unused_settings(name, kwargs))
    return builder(**{k: v for k, v in kwargs.items() if k not in unused})


def available_models() -> list[str]:
    """Sorted names of the registered models."""
    return available("model")


__all__ = ["available_models", "create_model", "unused_settings"]
