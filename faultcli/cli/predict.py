"""`faultcli predict`: diagnose new recordings or images with a run, a checkpoint or an export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from faultcli.cli import console as con
from faultcli.cli.app import app


@app.command("predict", rich_help_panel="Deploy")
def predict(
    model: Annotated[Path, typer.Option("--model", "-m", help="A run folder, a checkpoint .pt, or an export folder.")],
    source: Annotated[
        Path, typer.Option("--input", "-i", help="A recording (.mat/.csv/.xlsx/.npy) or image, or a folder of them.")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder; it must not exist yet (default runs/predict/...).")
    ] = None,
    sample_rate: Annotated[
        int | None,
        typer.Option("--sample-rate", help="Rate (Hz) of recordings that do not state it (file, rate pattern)."),
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Windows or images per model call.")] = 256,
    threads: Annotated[int, typer.Option("--threads", help="CPU threads (0: the runtime's default).")] = 0,
) -> None:
    """Predict recordings (per window and per recording) or images; no labels needed."""
    from faultcli.services.predict import run_predict

    summary = run_predict(
        model,
        source,
        out=out,
        sample_rate=sample_rate,
        batch_size=batch_size,
        threads=threads,
        reporter=con.ConsoleReporter(),
    )
    rows = [
        ["runtime", summary["runtime"]],
        ["files", f"{summary['predicted_files']} predicted, {len(summary['skipped'])} skipped"],
        ["windows / images", summary["units"]],
        ["seconds", summary["seconds"]],
        ["peak memory (MB)", summary["peak_rss_mb"]],
    ]
    rows += [[f"verdict {name}", n] for name, n in sorted(summary["verdicts"].items(), key=lambda kv: -kv[1])]
    con.print_table("predictions", ["figure", "value"], rows)
    for item in summary["skipped"]:
        con.console.print(f"skipped {item['file']}: {item['reason']}", highlight=False, markup=False)
    con.print_path("output folder", summary["folder"])
