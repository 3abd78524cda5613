"""The one module of ``faultcli.export`` that reaches into the rest of faultcli for checkpoints and models.

Everything else in the package (and ``services/export.py`` / ``services/predict.py``) goes through these
functions, so a move of the loaders is one edit here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch
from torch import nn

from faultcli.errors import CheckpointError

TASKS = ("vibration-classification", "image-classification", "segmentation", "clip")


def checkpoint_file(path: Path) -> Path:
    """A checkpoint file, or a run folder's ``checkpoints/best.pt``."""
    path = Path(path)
    return path / "checkpoints" / "best.pt" if path.is_dir() else path


def load_state(path: Path) -> dict[str, Any]:
    """The checkpoint dict (model, config, classes, model_name, model_kwargs, data_info, task, temperature…)."""
    from faultcli.services.evaluate import load_checkpoint_or_run

    state = load_checkpoint_or_run(Path(path))
    task = task_of(state)
    if task not in TASKS:
        raise CheckpointError(f"{path} holds a {task!r} model, which cannot be exported; export one of {TASKS}")
    return state


def task_of(state: dict[str, Any]) -> str:
    """The checkpoint's task (older checkpoints store it in their config only)."""
    return str(state.get("task") or state.get("config", {}).get("task") or "vibration-classification")


def build_model(state: dict[str, Any]) -> nn.Module:
    """The checkpoint's model on the CPU in eval mode, its BatchNorms folded into the convolutions before them."""
    from faultcli.models.layers import fuse_conv_bn
    from faultcli.services.common import load_trained_model

    if task_of(state) != "segmentation":
        import faultcli.models  # noqa: F401  (registers the classifiers)
    import faultcli.models.vision  # noqa: F401  (registers image_classifier and smp_segmenter)

    model = load_trained_model(state, torch.device("cpu"))
    return fuse_conv_bn(model.eval())


def config_of(state: dict[str, Any], overrides: list[str] | None = None) -> Any:
    """The checkpoint's resolved ``Config`` (with ``--set`` overrides, e.g. ``data.root``)."""
    from faultcli.services.common import resolve_config

    return resolve_config(None, overrides, base=dict(state["config"]))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
