"""The exported graph: a trained model wrapped to take the sidecar's inputs and give calibrated
probabilities, written as ONNX (dynamo exporter, one self-contained file) or TorchScript."""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from faultcli.errors import UserError

OPSET = 18  # rfft and complex STFT export from opset 18 on; opset-17 ReduceL2 graphs failed to load in ORT


class ExportError(UserError):
    """A model that cannot be written in the format asked for; the message names the operator."""


class Probabilities(nn.Module):
    """``model(x, **extra)`` → (softmax(logits / T), logits / T) for classifiers, sigmoid(logits) for segmenters."""

    def __init__(self, model: nn.Module, input_names: list[str], temperature: float, segmentation: bool) -> None:
        super().__init__()
        self.model, self.extra_names = model, list(input_names[1:])
        self.temperature, self.segmentation = float(temperature), segmentation

    def forward(self, x: torch.Tensor, *extra: torch.Tensor) -> Any:
        logits = self.model(x, **dict(zip(self.extra_names, extra, strict=True)))
        if self.segmentation:
            return torch.sigmoid(logits)
        scaled = logits / self.temperature
        return torch.softmax(scaled, dim=1), scaled


def example_inputs(sidecar: dict[str, Any], batch: int = 2) -> tuple[torch.Tensor, ...]:
    """Random tensors shaped as the sidecar's inputs (the rpm input at a typical shaft speed)."""
    out = []
    for spec in sidecar["inputs"]:
        shape = [batch if dim == "batch" else int(dim) for dim in spec["shape"]]
        out.append(torch.full(shape, 1750.0) if spec["name"] == "rpm" else torch.randn(shape))
    return tuple(out)


def wrap(model: nn.Module, sidecar: dict[str, Any]) -> Probabilities:
    names = [spec["name"] for spec in sidecar["inputs"]]
    temperature = sidecar["temperature"] if sidecar.get("temperature_applied") else 1.0
    return Probabilities(model, names, temperature, sidecar["task"] == "segmentation").eval()


def _operator(err: BaseException) -> str:
    """The aten operator an exporter error names, else the innermost error's message."""
    text = str(err)
    match = re.search(r"op='(aten\.[\w.]+)'", text) or re.search(r"(aten::\w+|aten\.\w+)", text)
    if match:
        detail = " on complex values" if "complex" in text else ""
        return f"operator {match.group(1)}{detail}"
    causes = re.findall(r"<class '[\w.]+'>: (.+)", text)
    if causes:
        return causes[-1][:200]
    return text.strip().splitlines()[0][:160] if text.strip() else type(err).__name__


@contextlib.contextmanager
def _quiet():
    """The exporters print progress and warn about things faultcli checks itself (parity)."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def export_onnx(wrapper: Probabilities, sidecar: dict[str, Any], path: Path) -> None:
    """One self-contained ``.onnx`` file (weights inside), dynamic batch dimension, opset 18."""
    inputs = example_inputs(sidecar)
    names = [spec["name"] for spec in sidecar["inputs"]]
    batch = torch.export.Dim("batch", min=1)
    # by position, as forward(x, *extra) sees them: the batch axis of every input (no extras: no tuple)
    dynamic = ({0: batch}, tuple({0: batch} for _ in names[1:])) if len(names) > 1 else ({0: batch},)
    try:
        with _quiet(), torch.inference_mode(False), torch.no_grad():
            torch.onnx.export(
                wrapper,
                inputs,
                str(path),
                input_names=names,
                output_names=[spec["name"] for spec in sidecar["outputs"]],
                dynamic_shapes=dynamic,
                opset_version=OPSET,
                external_data=False,
                dynamo=True,
                optimize=False,  # ONNX Runtime fuses at load time; the rewrites below are what it lacks
            )
    except Exception as err:  # the exporter raises many types; the user needs the operator
        raise ExportError(
            f"{sidecar['model_name']} cannot be exported to ONNX ({_operator(err)}); "
            "export it with --format torchscript instead"
        ) from None
    import onnx

    from faultcli.export.onnx_passes import optimize_file

    sidecar["graph_rewrites"] = optimize_file(path)
    kept = {i.name for i in onnx.load(str(path), load_external_data=False).graph.input}
    sidecar["inputs"] = [spec for spec in sidecar["inputs"] if spec["name"] in kept]  # unused inputs are dropped


def export_torchscript(wrapper: Probabilities, sidecar: dict[str, Any], path: Path) -> None:
    """A traced TorchScript module (``torch.jit.load`` + call with the sidecar's inputs)."""
    inputs = example_inputs(sidecar)
    try:
        with _quiet(), torch.no_grad():
            traced = torch.jit.trace(wrapper, inputs, check_trace=False)
            traced = torch.jit.freeze(traced.eval())
        traced.save(str(path))
    except Exception as err:
        raise ExportError(f"{sidecar['model_name']} cannot be traced to TorchScript ({_operator(err)})") from None
