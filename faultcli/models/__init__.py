"""Models. Importing this package runs every registration (branches, fusions, heads, models).

``create_model(name, **kwargs)`` builds a registered model from flat keyword arguments;
``available_models()`` lists the names.
"""

from __future__ import annotations

from typing import Any

# Imported for their registrations; timm and smp are imported only when an image model is built.
from faultcli.models import band_linear, branches, envelope_linear, fusion, heads, multimodal, vision, wdcnn  # noqa: F401
from faultcli.models.vision import segmentation  # noqa: F401
from faultcli.registry import available, create


def create_model(name: str, **kwargs: Any) -> Any:
    """The registered model ``name``; an unknown name raises ConfigError listing the valid ones."""
    return create("model", name, **kwargs)


def available_models() -> list[str]:
    """Sorted names of the registered models."""
    return available("model")


__all__ = ["available_models", "create_model"]
