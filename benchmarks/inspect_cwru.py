"""`faultcli inspect` on the 36 CWRU 12 kHz drive-end fault recordings: which characteristic frequency is
the strongest marked envelope line, at which order, and how long one page takes.

    python benchmarks/inspect_cwru.py [--data ../shared/data/cwru] [--timed 3]

Per recording: the fast kurtogram's band, the strongest fault line (BPFO / BPFI / BSF / FTF and harmonics
2-3, by height over the local median of the squared envelope spectrum) and the rank of the line the fault
predicts (inner race: BPFI, outer race: BPFO, ball: BSF). Nothing is tuned on these recordings: the
method's settings are the command's defaults. Timing: the whole `faultcli inspect` command (a fresh
process, page and report written) on the first --timed recordings.
Writes benchmarks/results/inspect_cwru.json and .md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, machine, write_results  # noqa: E402

from faultcli.data.labels import parse_name  # noqa: E402
from faultcli.services.inspect import InspectOptions, diagnose, load_recording  # noqa: E402

EXPECTED = {"inner": "BPFI", "outer": "BPFO", "ball": "BSF"}
TIMED = ("IR007_0.mat", "OR021@6_3.mat", "B014_1.mat")


def one(path: Path) -> dict:
    meta = parse_name(path.name)
    started = time.perf_counter()
    rec = load_recording(path, InspectOptions())
    found = diagnose(rec, InspectOptions())
    seconds = time.perf_counter() - started
    matches = found["matches"]
    top, want = matches[0], EXPECTED[meta["fault"]]
    rank = next(i for i, m in enumerate(matches, 1) if m.line == want)
    best_expected = next(m for m in matches if m.line == want)
    return {
        "file": path.name,
        "fault": meta["fault"],
        "size": meta["size"],
        "load": meta["load"],
        "rpm": rec.rpm,
        "band": [round(b, 1) for b in found["band"]],
        "spectral_kurtosis": found["kurtogram"].best_kurtosis,
        "strongest": top.label(),
        "strongest_line": top.line,
        "strongest_order": top.order,
        "strongest_db": top.strength_db,
        "expected": want,
        "right": top.line == want,
        "expected_rank": rank,
        "expected_best": best_expected.label(),
        "expected_db": best_expected.strength_db,
        "analysis_seconds": seconds,
    }


def timed_command(args: list[str]) -> dict:
    """Wall and CPU seconds (user + system) of a child process: wall time depends on what else the machine
    runs, CPU time much less."""
    load = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"command failed: {' '.join(args)}\n{output}")
    return {"wall_seconds": wall, "cpu_seconds": usage.ru_utime + usage.ru_stime, "load_before": load}


def table(rows: list[dict], timing: list[dict]) -> str:
    lines = [
        "| recording | fault | size | load | rpm | band Hz | SK | strongest line | order | dB | expected | right | "
        "rank of expected | expected's best (dB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['file']} | {r['fault']} | {r['size']:.3f} | {r['load']} | {r['rpm']:g} | "
            f"{r['band'][0]:g}-{r['band'][1]:g} | {r['spectral_kurtosis']:.2f} | {r['strongest']} | "
            f"{r['strongest_order']:.3f} | {r['strongest_db']:.1f} | {r['expected']} | "
            f"{'yes' if r['right'] else 'no'} | {r['expected_rank']} | {r['expected_best']} ({r['expected_db']:.1f}) |"
        )
    lines += ["", "| fault | size | right (strongest line is the expected one or its harmonic) |", "|---|---|---|"]
    for fault in ("inner", "outer", "ball"):
        for size in (0.007, 0.014, 0.021):
            group = [r for r in rows if r["fault"] == fault and abs(r["size"] - size) < 1e-9]
            lines.append(f"| {fault} | {size:.3f} | {sum(r['right'] for r in group)}/{len(group)} |")
    lines += [
        "",
        "| timed recording | `faultcli inspect` wall s (fresh process) | CPU s | 1-min load average before |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {t['file']} | {t['wall_seconds']:.2f} | {t['cpu_seconds']:.2f} | {t['load_before']:.1f} |" for t in timing
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "cwru")
    parser.add_argument("--timed", type=int, default=len(TIMED), help="recordings timed end to end (0-3)")
    args = parser.parse_args()
    files = sorted((args.data / "12k_drive_end").glob("*.mat"))
    if len(files) != 36:
        raise SystemExit(f"expected the 36 CWRU 12 kHz drive-end fault recordings under {args.data}/12k_drive_end")
    rows = []
    for path in files:
        rows.append(one(path))
        r = rows[-1]
        print(
            f"{r['file']:14s} {r['strongest']:7s} order {r['strongest_order']:.3f} {r['strongest_db']:.1f} dB "
            f"{'right' if r['right'] else 'wrong'}",
            flush=True,
        )
    timing = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in TIMED[: args.timed]:
            out = Path(tmp) / name.replace("@", "_")
            path = str(args.data / "12k_drive_end" / name)
            measured = timed_command([sys.executable, "-m", "faultcli", "inspect", path, "--out", str(out)])
            if not (out / "inspect.png").is_file() or not (out / "report.md").is_file():
                raise SystemExit(f"inspect wrote no page for {name}")
            timing.append({"file": name, **measured})
    target = [r for r in rows if r["fault"] in ("inner", "outer") and r["size"] in (0.007, 0.021)]
    payload = {
        "rows": rows,
        "timing": timing,
        "target_inner_outer_007_021_right": f"{sum(r['right'] for r in target)}/{len(target)}",
        "right_all": f"{sum(r['right'] for r in rows)}/{len(rows)}",
        "machine": machine(),
    }
    write_results("inspect_cwru", payload, table(rows, timing))


if __name__ == "__main__":
    main()
