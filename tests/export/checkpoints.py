"""Tiny checkpoints built in-process (no training) over small generated datasets, for every model family.

Imported by tests/export and tests/services/test_predict.py (``sys.path`` points here from each).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from faultcli.config import load_config

VIBRATION_CLASSES = ("ball", "inner", "normal")


def make_recordings(root: Path, rate: int = 12000, seconds: float = 1.0, rpm: float | None = None) -> Path:
    """``root/<class>/<class>_<load>hp.npy``: one tone per class plus noise, four loads each."""
    rng = np.random.default_rng(0)
    t = np.arange(int(rate * seconds)) / rate
    for ci, cls in enumerate(VIBRATION_CLASSES):
        (root / cls).mkdir(parents=True, exist_ok=True)
        for load in range(4):
            signal = np.sin(2 * np.pi * (300 + 900 * ci) * t) + 0.3 * rng.standard_normal(t.size)
            np.save(root / cls / f"{cls}_{load}hp.npy", signal)
    return root


def make_images(root: Path, classes=("crazing", "patches"), n: int = 40, size: int = 40) -> Path:
    """``root/<class>_<i>.png``: gray images with class-typical stripes or blobs."""
    import cv2

    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    for ci, cls in enumerate(classes):
        for i in range(n):
            image = rng.integers(60, 120, (size, size), dtype=np.uint8)
            if ci == 0:
                image[:, :: 4 + i % 3] = 220
            else:
                cv2.circle(image, (size // 2, size // 2), 6 + i % 5, 230, -1)
            cv2.imwrite(str(root / f"{cls}_{i}.png"), image)
    return root


def _config(overrides: list[str]) -> Any:
    return load_config(None, overrides)


def save_state(path: Path, state: dict[str, Any]) -> Path:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return path


def vibration_checkpoint(
    tmp: Path, model: dict[str, Any] | None = None, data: dict[str, Any] | None = None, seconds: float = 1.0
) -> Path:
    """A checkpoint of a vibration model (random weights, BatchNorm statistics from a few batches)."""
    import torch

    from faultcli.data.vibration import prepare_vibration
    from faultcli.models import create_model

    root = make_recordings(tmp / "raw", seconds=seconds)
    settings = {"name": "multimodal_small", **(model or {})}
    data = {"root": str(root), "window": 256, "step": 128, "cache_dir": str(tmp / "cache"), **(data or {})}
    overrides = [f"data.{k}={_toml(v)}" for k, v in data.items()] + [
        f"{'model' if k == 'name' else 'vibration'}.{k}={_toml(v)}" for k, v in settings.items()
    ]
    cfg = _config(overrides)
    ds = prepare_vibration(cfg.data)
    mean, std = ds.norm()
    kwargs = {"num_classes": len(ds.classes), "window": cfg.data.window, "sample_rate": cfg.data.sample_rate}
    keys = ("branches", "fusion", "tf_transform", "order_normalize", "wide_bands", "n_bands", "window_norm")
    if settings["name"].startswith("multimodal"):
        kwargs.update({k: getattr(cfg.vibration, k) for k in keys})
    net = create_model(settings["name"], **kwargs)
    _settle_batchnorm(net, torch.randn(64, 1, cfg.data.window))
    state = {
        "model": net.state_dict(),
        "config": dataclasses.asdict(cfg),
        "classes": list(ds.classes),
        "model_name": settings["name"],
        "model_kwargs": kwargs,
        "data_info": {
            "window": cfg.data.window,
            "sample_rate": cfg.data.sample_rate,
            "norm_mean": mean,
            "norm_std": std,
        },
        "task": "vibration-classification",
        "temperature": 1.5,
    }
    return save_state(tmp / "run" / "checkpoints" / "best.pt", state)


def image_checkpoint(tmp: Path, edges: bool = True, segmentation: bool = False, size: int = 32) -> Path:
    """A checkpoint of the image classifier (with its edge branch) or of an smp segmenter at ``size`` px."""
    import torch

    import faultcli.models.vision  # noqa: F401
    from faultcli.data.images import prepare_images
    from faultcli.models import create_model

    task = "segmentation" if segmentation else "image-classification"
    data: dict[str, Any] = {"label_from": "prefix", "image_size": [size, size], "split": "stratified"}
    data["cache_dir"] = str(tmp / "cache")
    if segmentation:
        import cv2

        root = make_images(tmp / "seg" / "images").parent
        (root / "masks").mkdir()
        for path in sorted((root / "images").glob("*.png")):
            mask = (cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) > 200).astype(np.uint8) * 255
            cv2.imwrite(str(root / "masks" / path.name), mask)
    else:
        root = make_images(tmp / "images")
        data["edges"] = edges
    data["root"] = str(root)
    overrides = [f"task={_toml(task)}"] + [f"data.{k}={_toml(v)}" for k, v in data.items()]
    cfg = _config(overrides)
    ds = prepare_images(cfg.data, task)
    mean, std = ds.norm()
    channels = int(ds.manifest["channels"])
    if segmentation:
        name = "smp_segmenter"
        kwargs = {"arch": "Unet", "encoder": "resnet18", "num_classes": len(ds.classes), "in_channels": channels}
        info = {"mean": mean, "std": std, "image_size": [size, size], "channels": channels, "color": "gray"}
        info["crops"] = {}
        info["scale"] = [0.8, 0.8]
    else:
        name = "image_classifier"
        kwargs = {"num_classes": len(ds.classes), "backbone": "resnet18", "in_chans": channels, "edge_branch": edges}
        info = {"image_size": [size, size], "channels": channels, "norm_mean": mean, "norm_std": std, "color": "gray"}
        info.update(crops={}, edge_branch=edges)
    net = create_model(name, **kwargs)
    extra = {"edge": torch.rand(8, 1, size, size)} if edges and not segmentation else {}
    _settle_batchnorm(net, torch.randn(8, channels, size, size), **extra)
    state = {
        "model": net.state_dict(),
        "config": dataclasses.asdict(cfg),
        "classes": list(ds.classes),
        "model_name": name,
        "model_kwargs": kwargs,
        "data_info": info,
        "task": task,
        "temperature": 1.2,
    }
    if segmentation:
        state["postprocess"] = {"thresholds": [0.5] * len(ds.classes), "min_areas": [4] * len(ds.classes)}
    return save_state(tmp / "run" / "checkpoints" / "best.pt", state)


def _settle_batchnorm(net: Any, x: Any, **extra: Any) -> None:
    """A few forward passes in train mode, so BatchNorm statistics are not the identity (folding is tested)."""
    import torch

    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(x, **extra)
    net.eval()


def _toml(value: Any) -> str:
    """A value as a TOML literal for ``--set`` (strings, numbers, booleans, lists, tables)."""
    import json

    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)
