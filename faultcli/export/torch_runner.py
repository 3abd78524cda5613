"""Run a checkpoint or a TorchScript export with the same surface as ``OnnxRunner``."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from faultcli.errors import CheckpointError
from faultcli.export.checkpoint import build_model
from faultcli.export.graph import wrap


class _TorchRunner:
    module: torch.nn.Module
    input_names: list[str]
    output_names: list[str]

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        with torch.inference_mode():
            outs = self.module(*(torch.from_numpy(np.ascontiguousarray(inputs[n])) for n in self.input_names))
        outs = outs if isinstance(outs, tuple) else (outs,)
        return {name: out.float().numpy() for name, out in zip(self.output_names, outs, strict=True)}


class CheckpointRunner(_TorchRunner):
    """A checkpoint's model in PyTorch eager mode, wrapped as the export wraps it."""

    runtime = "pytorch"

    def __init__(self, state: dict[str, Any], sidecar: dict[str, Any]) -> None:
        self.module = wrap(build_model(state), sidecar)
        self.input_names = [spec["name"] for spec in sidecar["inputs"]]
        self.output_names = [spec["name"] for spec in sidecar["outputs"]]


class TorchScriptRunner(_TorchRunner):
    """A TorchScript export (``model.pt``)."""

    runtime = "torchscript"

    def __init__(self, path: Path, sidecar: dict[str, Any]) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated but still shipped
                self.module = torch.jit.load(str(path), map_location="cpu").eval()
        except Exception as err:
            raise CheckpointError(
                f"{path} is not a loadable TorchScript model ({type(err).__name__}); re-export"
            ) from None
        self.input_names = [spec["name"] for spec in sidecar["inputs"]]
        self.output_names = [spec["name"] for spec in sidecar["outputs"]]
