"""`faultcli export`: a checkpoint → ONNX or TorchScript beside a sidecar JSON, parity proven on real data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from faultcli.cli import console as con
from faultcli.cli.app import app
from faultcli.cli.options import Overrides


@app.command("export", rich_help_panel="Deploy")
def export(
    checkpoint: Annotated[
        Path, typer.Option("--checkpoint", "-c", help="A checkpoint file, or a run folder (its checkpoints/best.pt).")
    ],
    fmt: Annotated[str, typer.Option("--format", help="onnx (ONNX Runtime, opset 18) or torchscript.")] = "onnx",
    quantize: Annotated[
        str, typer.Option("--quantize", help="int8: static int8 ONNX graph (accuracy drop reported).")
    ] = "none",
    out: Annotated[
        Path | None, typer.Option("--out", help="Export folder; it must not exist yet (default runs/export/...).")
    ] = None,
    overrides: Overrides = None,
    threads: Annotated[int, typer.Option("--threads", help="CPU threads (0: torch's default).")] = 0,
) -> None:
    """Export a trained model with a sidecar JSON; parity with PyTorch is checked on the run's own data."""
    from faultcli.services.export import run_export

    result = run_export(
        checkpoint,
        fmt,
        quantize=quantize,
        out=out,
        overrides=overrides or [],
        threads=threads,
        reporter=con.ConsoleReporter(),
    )
    parity = result["parity_detail"]
    rows = [
        ["model", result["model_name"]],
        ["format", f"{result['runtime']} ({result['precision']})"],
        ["parity samples", f"{parity['samples']} ({parity['splits']})"],
        ["max |Δp|", f"{parity['max_abs_diff']:.2e}"],
        ["top-1 agreement", f"{parity['top1_agreement']:.4%}"],
    ]
    if "accuracy_pytorch" in parity:
        rows.append(
            ["accuracy pytorch / export", f"{parity['accuracy_pytorch']:.4f} / {parity['accuracy_export']:.4f}"]
        )
    rows.append(["bound", parity["bound"]])
    con.print_table("export parity", ["figure", "value"], rows)
    con.print_path("export folder", result["folder"])
