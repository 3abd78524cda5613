"""`faultcli export`: a checkpoint → an ONNX or TorchScript graph beside a sidecar JSON, with parity proven
on real samples of the run's own dataset before anything is kept."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from faultcli.errors import UserError
from faultcli.progress import NullReporter, Reporter
from faultcli.runs import atomic_write_json, make_run_folder, new_run_dir, remove_run_folder

FORMATS = ("onnx", "torchscript")
QUANTIZE = ("none", "int8")


def _check_options(fmt: str, quantize: str) -> None:
    if fmt not in FORMATS:
        raise UserError(f"--format {fmt!r} is unknown; use one of {', '.join(FORMATS)}")
    if quantize not in QUANTIZE:
        raise UserError(f"--quantize {quantize!r} is unknown; use int8 (or leave it out)")
    if quantize == "int8" and fmt != "onnx":
        raise UserError("--quantize int8 needs --format onnx (ONNX Runtime runs the int8 graph)")


def _write_graph(model: Any, sidecar: dict[str, Any], fmt: str, staging: Path) -> Any:
    """The graph file in ``staging`` and a runner over it."""
    from faultcli.export import graph

    wrapper = graph.wrap(model, sidecar)
    if fmt == "onnx":
        from faultcli.export.onnx_runner import OnnxRunner

        graph.export_onnx(wrapper, sidecar, staging / sidecar["model_file"])
        return OnnxRunner(staging / sidecar["model_file"])
    from faultcli.export.torch_runner import TorchScriptRunner

    graph.export_torchscript(wrapper, sidecar, staging / sidecar["model_file"])
    return TorchScriptRunner(staging / sidecar["model_file"], sidecar)


def run_export(
    checkpoint: Path,
    fmt: str = "onnx",
    *,
    quantize: str = "none",
    out: Path | None = None,
    overrides: list[str] | None = None,
    threads: int = 0,
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    """Export ``checkpoint`` (a .pt file or a run folder) into a new folder; returns the sidecar.

    The folder holds the graph (``model.onnx`` / ``model.pt``), ``model.json`` and ``parity.json``. It is
    written under a temporary name and renamed only once parity passed: a failed export leaves nothing.
    ``overrides`` (``--set data.root=...``) point the parity check at the data when it has moved.
    """
    import torch

    from faultcli.export import checkpoint as ckpt
    from faultcli.export import parity, sidecar
    from faultcli.export.torch_runner import CheckpointRunner

    reporter = reporter or NullReporter()
    _check_options(fmt, quantize)
    if threads:
        torch.set_num_threads(threads)
    state = ckpt.load_state(checkpoint)
    cfg = ckpt.config_of(state, overrides)
    target = new_run_dir("export", cfg.name or state["model_name"], out)
    description = sidecar.describe(state)
    description.update(
        model_file=sidecar.MODEL_FILES[fmt],
        runtime="onnxruntime" if fmt == "onnx" else "torchscript",
        precision="int8" if quantize == "int8" else "fp32",
        opset=18 if fmt == "onnx" else None,
        source={
            "checkpoint": str(ckpt.checkpoint_file(checkpoint)),
            "sha256": ckpt.file_sha256(ckpt.checkpoint_file(checkpoint)),
        },
    )
    staging = target.parent / f".{target.name}.tmp-{os.getpid()}"
    made = make_run_folder(staging)  # an unwritable place is one line; parents made for a failed export go too
    started = time.monotonic()
    try:
        samples = parity.Samples(state, cfg, description, reporter)  # data problems surface before the slow export
        reporter.info(f"exporting {state['model_name']} to {fmt} ({len(samples)} parity samples: {samples.splits})")
        reference = CheckpointRunner(state, description)
        runner = _write_graph(reference.module.model, description, fmt, staging)
        if quantize == "int8":
            from faultcli.export.onnx_runner import OnnxRunner
            from faultcli.export.quantize import CALIBRATION_SAMPLES, quantize_int8

            fp32 = staging / "model.fp32.onnx"
            (staging / description["model_file"]).rename(fp32)
            # activation ranges from training windows (test inputs stay unseen by any choice)
            train = parity.Samples(state, cfg, description, reporter, ("train",), limit=CALIBRATION_SAMPLES)
            quantize_int8(fp32, staging / description["model_file"], list(train.batches(32)))
            fp32.unlink()
            runner = OnnxRunner(staging / description["model_file"])
        result = parity.compare(reference, runner, samples, reporter)
        failure = parity.verdict(result, quantize == "int8")
        result["passed"] = failure is None
        if failure:
            raise UserError(f"export of {checkpoint} fails its parity check: {failure}; nothing was written")
        description["parity"] = {k: result[k] for k in ("samples", "max_abs_diff", "top1_agreement", "bound")}
        description["seconds"] = round(time.monotonic() - started, 1)
        atomic_write_json(staging / "parity.json", result)
        sidecar.write(staging, description)
        os.replace(staging, target)
    except BaseException:
        remove_run_folder(staging, made)
        raise
    description["folder"] = str(target)
    description["parity_detail"] = result
    return description
