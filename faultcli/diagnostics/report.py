"""The markdown report of one inspected recording, from the summary the inspect service builds."""

from __future__ import annotations

from typing import Any


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def inspect_markdown(summary: dict[str, Any]) -> str:
    """report.md: how each input was found, statistics, fault frequencies, matches, verdict, the page."""
    b = summary["bearing"]
    lines = [
        f"# Inspection of {summary['file']}" + (f" [{summary['part']}]" if summary.get("part") else ""),
        "",
        "| input | value | how it was found |",
        "|---|---|---|",
        f"| channel | {summary['channel'] or '–'} | {summary['channel_how']} |",
        f"| sampling rate | {summary['sample_rate']:g} Hz | {summary['sample_rate_how']} |",
        f"| shaft speed | {summary['rpm']:g} rpm ({summary['rpm'] / 60:.3f} Hz) | {summary['rpm_how']} |",
        f"| bearing | {b['name']}: {b['balls']} balls, ball {b['ball_diameter']:g}, pitch {b['pitch_diameter']:g}, "
        f"contact angle {b['contact_angle']:g}° | {summary['bearing_how']} |",
        f"| demodulation band | {summary['band'][0]:g}-{summary['band'][1]:g} Hz | {summary['band_how']} |",
        "",
        f"{summary['samples']} samples ({summary['duration_s']:.2f} s).",
        "",
        "## Waveform",
        "",
        "| RMS | peak | crest factor | kurtosis |",
        "|---|---|---|---|",
        "| " + " | ".join(_fmt(summary["stats"][k]) for k in ("rms", "peak", "crest_factor", "kurtosis")) + " |",
        "",
        "## Characteristic fault frequencies",
        "",
        "| line | order | Hz |",
        "|---|---|---|",
    ]
    lines += [f"| {k} | {v:.4f} | {summary['fault_hz'][k]:.2f} |" for k, v in summary["fault_orders"].items()]
    lines += [
        "",
        "## Strongest envelope lines",
        "",
        "Height of the largest envelope-spectrum bin within the tolerance around each expected line, over the "
        "spectrum's median within half a shaft order around it.",
        "",
        "| line | expected Hz | found Hz | order | dB over local median |",
        "|---|---|---|---|---|",
    ]
    rows = [(m["label"], m) for m in summary["matches"]] + [(f"shaft {m['harmonic']}X", m) for m in summary["shaft"]]
    lines += [
        f"| {name} | {m['expected_hz']:.2f} | {m['found_hz']:.2f} | {m['order']:.3f} | {m['strength_db']:.1f} |"
        for name, m in rows
    ]
    top = summary["strongest"]
    lines += [
        "",
        f"Strongest fault line: **{top['label']}** at order {top['order']:.3f} ({top['strength_db']:.1f} dB).",
    ]
    verdict = summary.get("verdict")
    lines += ["", "## Model verdict", ""]
    if verdict is None:
        lines.append("No model given (`--model RUN_OR_CKPT`).")
    else:
        lines += [
            f"`{verdict['checkpoint']}`: **{verdict['predicted']}** "
            f"(mean probability {max(verdict['probabilities']):.3f}; "
            f"{verdict['vote_share']:.0%} of {verdict['windows']} windows of {verdict['window']} samples at "
            f"{verdict['sample_rate']:g} Hz, step {verdict['step']}).",
            "",
            "| class | mean probability |",
            "|---|---|",
        ]
        lines += [f"| {c} | {p:.4f} |" for c, p in zip(verdict["classes"], verdict["probabilities"], strict=True)]
    if summary.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {note}" for note in summary["notes"]]
    lines += ["", f"![inspection page]({summary['files']['page']})", ""]
    return "\n".join(lines)
