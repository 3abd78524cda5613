"""`faultcli inspect`: the classical look at one recording (envelope analysis), with a model's verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from faultcli.cli import console as con
from faultcli.cli.app import app
from faultcli.cli.options import Out


def _band(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    from faultcli.errors import ConfigError

    low, sep, high = text.partition(":")
    try:
        return float(low), float(high)
    except ValueError:
        raise ConfigError(f"--band {text!r} is not LOW:HIGH in Hz; write e.g. --band 2000:4000") from None


@app.command(rich_help_panel="Evaluate")
def inspect(
    file: Annotated[Path, typer.Argument(help="A recording (.mat, .csv, .xlsx, .npy).")],
    bearing: Annotated[
        Optional[str], typer.Option(help="Bearing designation: 6205 (CWRU drive end) or 6203 (fan end).")
    ] = None,
    geometry: Annotated[
        Optional[str],
        typer.Option(help="Another bearing's geometry: balls=9,ball=0.3126,pitch=1.537[,angle=0] (one length unit)."),
    ] = None,
    rpm: Annotated[Optional[float], typer.Option(help="Shaft speed (rpm) when the file states none.")] = None,
    channel: Annotated[str, typer.Option(help=".mat files: DE, FE or BA channel.")] = "DE",
    sample_rate: Annotated[
        Optional[float], typer.Option("--sample-rate", help="Sampling rate (Hz) when neither file nor path says it.")
    ] = None,
    band: Annotated[
        Optional[str], typer.Option(help="Demodulation band LOW:HIGH in Hz (default: the fast kurtogram's).")
    ] = None,
    levels: Annotated[int, typer.Option(help="Fast kurtogram levels.")] = 6,
    part: Annotated[Optional[str], typer.Option(help="Which recording of a multi-recording file (e.g. col3).")] = None,
    model: Annotated[
        Optional[Path],
        typer.Option("--model", help="A finetune run folder or checkpoint: its verdict beside the page."),
    ] = None,
    out: Out = None,
) -> None:
    """One page per recording: waveform, spectrum, spectrogram, kurtogram and envelope spectrum with the
    bearing's fault frequencies marked; report.md lists the strongest lines and how every input was found."""
    from faultcli.services.inspect import InspectOptions, run_inspect

    options = InspectOptions(
        bearing=bearing,
        geometry=geometry,
        rpm=rpm,
        channel=channel,
        sample_rate=sample_rate,
        band=_band(band),
        levels=levels,
        part=part,
        model=model,
    )
    summary, path = run_inspect(file, options, out, con.ConsoleReporter())
    top = summary["strongest"]
    rows = [
        ["sampling rate (Hz)", f"{summary['sample_rate']:g} ({summary['sample_rate_how']})"],
        ["shaft speed (rpm)", f"{summary['rpm']:g} ({summary['rpm_how']})"],
        ["bearing", f"{summary['bearing']['name']} ({summary['bearing_how']})"],
        ["band (Hz)", f"{summary['band'][0]:g}-{summary['band'][1]:g} ({summary['band_how']})"],
        ["strongest line", f"{top['label']} at order {top['order']:.3f}, {top['strength_db']:.1f} dB"],
    ]
    if summary["verdict"]:
        v = summary["verdict"]
        rows.append(["model verdict", f"{v['predicted']} ({v['vote_share']:.0%} of {v['windows']} windows)"])
    rows += [["note", note] for note in summary["notes"]]
    con.print_table(f"inspect {file.name}", ["", ""], rows)
    con.print_path("run folder", path)
