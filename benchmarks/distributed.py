"""One process against two (torchrun, gloo) on this CPU, the same recipe and the same effective batch.

    python benchmarks/distributed.py                      # recipes/wdcnn.toml, seed 0
    python benchmarks/distributed.py --recipe recipes/small.toml --set train.epochs=5

Rows (each a whole `faultcli finetune` in a child process, one after the other on an idle machine):
  1 process  × 2 threads, batch 2B       (the usual way to use both cores)
  2 processes × 1 thread,  batch B each   (torchrun --nproc_per_node 2; effective batch 2B)
B is the recipe's batch size halved, so both rows take the same optimiser steps on the same batches; they
differ in BatchNorm (each process normalises its half of a batch) and in summation order. Throughput is
training windows per second of training time (train_seconds: epochs, validation included). Writes
benchmarks/results/distributed.json and distributed.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, ROOT, machine, run_measured, write_results  # noqa: E402

FIGURES = ("test_accuracy", "test_macro_f1", "best_epoch", "epochs_run", "train_seconds", "n_train")


def finetune(recipe: str, out: Path, overrides: list[str], processes: int) -> dict:
    launcher = (
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes)]
        if processes > 1
        else [sys.executable]
    )
    args = [*launcher, "-m", "faultcli", "finetune", "--recipe", recipe, "--out", str(out)]
    for item in overrides:
        args += ["--set", item]
    measured = run_measured(args, env={"OMP_NUM_THREADS": str(2 // processes)})
    summary = json.loads((out / "summary.json").read_text())
    row = {k: summary[k] for k in FIGURES if k in summary}
    row["windows_per_s"] = summary["n_train"] * summary["epochs_run"] / summary["train_seconds"]
    return {**row, "wall_seconds": measured["seconds"], "peak_rss_mib_main": measured["peak_rss_mib"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="recipes/wdcnn.toml")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    from faultcli.config import load_config

    batch = load_config(ROOT / args.recipe, args.overrides).train.batch_size
    half = max(batch // 2, 1)
    rows = []
    with tempfile.TemporaryDirectory(prefix="faultcli-ddp-") as tmp:
        for processes, threads, per_process in ((1, 2, 2 * half), (2, 1, half)):
            settings = [*args.overrides, f"train.threads={threads}", f"train.batch_size={per_process}"]
            row = finetune(args.recipe, Path(tmp) / f"p{processes}", settings, processes)
            rows.append({"processes": processes, "threads_each": threads, "batch_each": per_process, **row})
    one, two = rows
    case = {
        "recipe": args.recipe,
        "overrides": args.overrides,
        "rows": rows,
        "throughput_ratio": two["windows_per_s"] / one["windows_per_s"],
        **machine(),
    }
    # one entry per recipe and overrides: running another case keeps the earlier ones
    path = RESULTS / "distributed.json"
    cases = json.loads(path.read_text())["cases"] if path.is_file() else []
    cases = [c for c in cases if (c["recipe"], c["overrides"]) != (args.recipe, args.overrides)] + [case]
    write_results("distributed", {"cases": cases}, table(cases))


def table(cases: list[dict]) -> str:
    lines = [
        "# One process against two (torchrun, gloo), the same effective batch",
        "",
        "| recipe | processes × threads | batch each (effective) | test accuracy | macro-F1 | best / run epochs "
        "| train s | windows/s | 2 / 1 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for case in cases:
        name = f"`{case['recipe']}` {' '.join(case['overrides'])}".strip()
        for r in case["rows"]:
            ratio = f"{case['throughput_ratio']:.2f}×" if r["processes"] == 2 else ""
            lines.append(
                f"| {name} | {r['processes']} × {r['threads_each']} | {r['batch_each']} "
                f"({r['batch_each'] * r['processes']}) | {r['test_accuracy']:.4f} | {r['test_macro_f1']:.4f} "
                f"| {r['best_epoch']} / {r['epochs_run']} | {r['train_seconds']:.1f} | {r['windows_per_s']:.0f} "
                f"| {ratio} |"
            )
    last = cases[-1]
    lines += ["", f"Machine: {last['cpus']} CPUs, torch {last['torch']}; each case run on an idle machine."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
