"""``train.init``: start a model from the weights of a finetune or pretrain run, or of a .pt file.

Every tensor whose name and shape match is loaded; the classifier head is started afresh when it cannot
mean the same thing here (another class list, another class count, or a pretraining run whose head was
never trained). What was loaded, skipped and newly initialised goes to the run's log and summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from faultcli.models.init_weights import InitReport, load_matching, read_weights

# a module of one of these names holds a classifier read-out (head.net.4, arcface, wide.head)
HEAD_MODULES = ("head", "arcface")


def is_head_key(key: str) -> bool:
    """Whether a state-dict key belongs to a classifier read-out (any module on its path named ``head`` or
    ``arcface``): the part of a classifier that depends on its class list."""
    return any(part in HEAD_MODULES for part in key.split(".")[:-1])


@dataclass
class InitResult:
    source: str
    report: InitReport
    head: str  # what happened to the classifier head, in words

    def describe(self) -> str:
        return f"initial weights from {self.source}: {self.report.describe()}; classifier head {self.head}"

    def summary(self) -> dict[str, Any]:
        return {
            "init_source": self.source,
            "init_loaded": len(self.report.loaded),
            "init_skipped": len(self.report.skipped),
            "init_initialised": len(self.report.initialised),
            "init_head": self.head,
        }


def checkpoint_metadata(source: str | Path) -> dict[str, Any]:
    """A faultcli checkpoint's class list and pretraining marker ({} for a bare state dict)."""
    path = Path(source)
    path = path / "checkpoints" / "best.pt" if path.is_dir() else path
    if not path.is_file():
        return {}
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # read_weights has already named the problem
        return {}
    if not isinstance(state, dict):
        return {}
    return {k: state[k] for k in ("classes", "pretrain", "model_name") if k in state}


def head_rule(weights: dict[str, torch.Tensor], model: nn.Module, meta: dict[str, Any], classes: list[str]) -> str:
    """Why the file's head keys are dropped ('' = keep them): a pretraining run, another class list or count."""
    if "pretrain" in meta:
        return "started afresh (a pretraining run trains no classifier)"
    if "classes" in meta and list(meta["classes"]) != list(classes):
        return f"started afresh (the source's classes {list(meta['classes'])} differ from {list(classes)})"
    own = model.state_dict()
    if any(is_head_key(k) and k in own and tuple(v.shape) != tuple(own[k].shape) for k, v in weights.items()):
        return "started afresh (the source has another class count)"
    return ""


def init_model(model: nn.Module, source: str, classes: list[str]) -> InitResult:
    """Load ``source`` (run folder or .pt file) into ``model``; a body tensor of another shape is a
    ``ConfigError`` before anything is copied."""
    weights = read_weights(source)
    meta = checkpoint_metadata(source)
    reason = head_rule(weights, model, meta, classes)
    # dropped keys are listed as unused in the file, as the report's "skipped"
    dropped = {k: None for k in weights if is_head_key(k)} if reason else {}
    report = load_matching(model, weights, prefix_map=dropped)
    if reason:
        head = reason
    elif any(is_head_key(k) for k in report.loaded):
        head = "loaded (same classes)" if "classes" in meta else "loaded (same shape; the file names no classes)"
    else:
        head = "newly initialised (the file holds none)"
    return InitResult(str(source), report, head)
