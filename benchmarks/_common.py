"""Shared by the benchmark scripts: timed child processes, machine facts, result files."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from faultcli.runs import atomic_write_json, atomic_write_text

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def run_measured(args: list[str], env: dict | None = None, cwd: Path = ROOT) -> dict:
    """Run a command; return wall seconds, the child's peak RSS (MiB) and its exit code."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        args, cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(output)
        raise SystemExit(f"benchmark command failed ({code}): {' '.join(args)}")
    return {"seconds": seconds, "peak_rss_mib": usage.ru_maxrss / 1024, "output": output}


def run_faultcli(command: list[str], recipe: str | Path | None, out: Path, overrides: list[str]) -> dict:
    """``python -m faultcli <command> [--recipe R] --out OUT --set …`` in a child process: the run's
    summary.json with the wall seconds and peak RSS (MiB) of the whole process."""
    args = [
        sys.executable,
        "-m",
        "faultcli",
        *command,
        *(["--recipe", str(recipe)] if recipe else []),
        "--out",
        str(out),
    ]
    for item in overrides:
        args += ["--set", item]
    measured = run_measured(args)
    summary = json.loads((Path(out) / "summary.json").read_text())
    return {**summary, "wall_seconds": measured["seconds"], "peak_rss_mib": measured["peak_rss_mib"]}


def recording_load(files: pd.Series) -> pd.Series:
    """The motor load (0–3) of each CWRU recording named ``…_<load>.mat``, as a string."""
    return files.astype(str).str.extract(r"_(\d)\.mat$")[0]


def machine() -> dict:
    import torch

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_results(name: str, payload: dict, table: str) -> None:
    atomic_write_json(RESULTS / f"{name}.json", payload)  # a crash mid-write never leaves half a result file
    atomic_write_text(RESULTS / f"{name}.md", table + "\n")
    print(table)
