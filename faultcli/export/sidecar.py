"""The sidecar JSON (``model.json``) that makes an exported model self-describing.

It holds everything ``faultcli predict`` needs besides the graph: the task, class names, the inputs'
names and shapes, how raw recordings or images become those inputs (rate rule, window / step,
normalisation, edge maps), the temperature, segmentation thresholds, and where the model came from.
Built from a checkpoint dict without torch, so a checkpoint and its export are described alike.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from faultcli import __version__
from faultcli.errors import CheckpointError
from faultcli.runs import atomic_write_json

SIDECAR = "model.json"
FORMAT = "faultcli-export"
FORMAT_VERSION = 1
MODEL_FILES = {"onnx": "model.onnx", "torchscript": "model.pt"}
# Canny and CLAHE settings of faultcli.data.edges.edge_map that recipes do not change
EDGE_CLIP_LIMIT, EDGE_TILES = 2.0, 8


def _vibration_prep(state: dict[str, Any]) -> dict[str, Any]:
    data, info = state["config"]["data"], state.get("data_info") or {}
    return {
        "kind": "vibration",
        "sample_rate": int(info.get("sample_rate", data["sample_rate"])),
        "window": int(info.get("window", data["window"])),
        "step": int(data["step"]),
        "channel": data.get("channel", "DE"),
        "csv_layout": data.get("csv_layout", "auto"),
        "rate_patterns": dict(data.get("rate_patterns", {})),
        "source_rate": int(data.get("source_rate", 0)),
        # a recipe without rate patterns read every file at one rate: new files may be assumed at it
        "assume_rate": not data.get("rate_patterns"),
        # band-pass / MED / VMD steps each recording went through after resampling (data.preprocess)
        "steps": [dict(step) for step in info.get("preprocess", data.get("preprocess", []))],
        # the shaft speed from a file name that states it, and angular resampling to one speed
        "speed_regex": str(data.get("speed_regex", "")),
        "order_rpm": float(data.get("order_rpm", 0) or 0),
        "norm_mean": float(info["norm_mean"]),
        "norm_std": float(info["norm_std"]) or 1.0,
        # every vibration model takes the window's shaft speed as evaluation passes it (NaN when unknown);
        # the ones that do not use it ignore it
        "uses_rpm": True,
    }


def _image_prep(state: dict[str, Any]) -> dict[str, Any]:
    data, info = state["config"]["data"], state.get("data_info") or {}
    segmentation = state.get("task") == "segmentation"
    prep = {
        "kind": "segmentation" if segmentation else "image",
        "image_size": [int(v) for v in info["image_size"]],
        "channels": int(info["channels"]),
        "color": info.get("color", "gray" if int(info["channels"]) == 1 else "rgb"),
        "crops": dict(info.get("crops", {})),
        "norm_mean": [float(v) for v in info.get("norm_mean", info.get("mean", []))],
        "norm_std": [float(v) for v in info.get("norm_std", info.get("std", []))],
        "edges": None,
    }
    if info.get("edge_branch"):
        sigma = float(data.get("edge_sigma", 0.33))
        prep["edges"] = {"method": "clahe+canny", "sigma": sigma, "clip_limit": EDGE_CLIP_LIMIT, "tiles": EDGE_TILES}
    return prep


def describe(state: dict[str, Any]) -> dict[str, Any]:
    """The task-level part of a sidecar (no file names, no parity) from a checkpoint dict."""
    task = str(state.get("task") or state["config"].get("task") or "vibration-classification")
    vibration = task in ("vibration-classification", "clip")  # clip: windows in, class texts frozen in the graph
    prep = _vibration_prep(state) if vibration else _image_prep({**state, "task": task})
    if prep["kind"] == "vibration":
        inputs = [
            {"name": "x", "shape": ["batch", 1, prep["window"]], "dtype": "float32"},
            {"name": "rpm", "shape": ["batch"], "dtype": "float32"},
        ]
    else:
        height, width = prep["image_size"]
        inputs = [{"name": "x", "shape": ["batch", prep["channels"], height, width], "dtype": "float32"}]
        if prep.get("edges"):
            inputs.append({"name": "edge", "shape": ["batch", 1, height, width], "dtype": "float32"})
    classes = list(state["classes"])
    if task == "segmentation":
        outputs = [{"name": "probs", "shape": ["batch", len(classes), *prep["image_size"]], "dtype": "float32"}]
    else:
        outputs = [
            {"name": "probs", "shape": ["batch", len(classes)], "dtype": "float32"},
            {"name": "logits", "shape": ["batch", len(classes)], "dtype": "float32"},
        ]
    out: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "faultcli_version": __version__,
        "task": task,
        "model_name": state["model_name"],
        "classes": classes,
        "inputs": inputs,
        "outputs": outputs,
        "preprocessing": prep,
        # probabilities are softmax(logits / temperature), computed inside the graph
        "temperature": float(state.get("temperature", 1.0) or 1.0),
        "temperature_applied": task != "segmentation",
    }
    if task == "segmentation":
        post = state.get("postprocess") or {}
        out["postprocess"] = {
            "thresholds": [float(t) for t in post.get("thresholds", [0.5] * len(classes))],
            "min_areas": [int(a) for a in post.get("min_areas", [0] * len(classes))],
        }
    return out


def write(folder: Path, sidecar: dict[str, Any]) -> Path:
    path = Path(folder) / SIDECAR
    atomic_write_json(path, sidecar)
    return path


def is_export(folder: Path) -> bool:
    return (Path(folder) / SIDECAR).is_file()


def read(folder: Path) -> dict[str, Any]:
    """The sidecar of an export folder, checked; anything else is a one-line error."""
    path = Path(folder) / SIDECAR
    try:
        sidecar = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise CheckpointError(
            f"{path} is not a readable faultcli export sidecar ({err}); re-run faultcli export"
        ) from None
    if not isinstance(sidecar, dict) or sidecar.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a faultcli export sidecar; pass a folder written by faultcli export")
    if int(sidecar.get("format_version", 0)) > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} was written by a newer faultcli (format {sidecar['format_version']}); upgrade faultcli"
        )
    model = Path(folder) / sidecar.get("model_file", "")
    if not model.is_file():
        raise CheckpointError(f"{model} is missing beside {path.name}; copy the model file with its sidecar")
    return sidecar
