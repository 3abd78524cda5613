"""Benchmark `faultcli prep` on the full CWRU folder: cold and cached wall time, peak memory, MB/s.

python benchmarks/prep.py            # writes benchmarks/results/prep.json and prep.md
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, run_measured, write_results  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipe", default="recipes/cwru.toml")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from faultcli.config import load_config

    root = Path(load_config(Path(args.recipe)).data.root)
    raw_mb = sum(f.stat().st_size for f in root.rglob("*") if f.is_file()) / 1e6
    cold, cached = [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [
                sys.executable,
                "-m",
                "faultcli",
                "prep",
                "--recipe",
                args.recipe,
                "--set",
                f"data.cache_dir={tmp}/cache",
            ]
            cold.append(run_measured(cmd + ["--out", f"{tmp}/cold"]))
            cached.append(run_measured(cmd + ["--out", f"{tmp}/cached"]))
            summary = json.loads(Path(f"{tmp}/cached/summary.json").read_text())
            assert summary["cache_hit"], "the second prep did not reuse the cache"
            counts = json.loads(Path(f"{tmp}/cold/summary.json").read_text())

    def best(runs: list[dict], key: str) -> float:
        return min(r[key] for r in runs)

    result = {
        "recipe": args.recipe,
        "raw_mb": raw_mb,
        "repeats": args.repeats,
        "cold_seconds": best(cold, "seconds"),
        "cached_seconds": best(cached, "seconds"),
        "cold_peak_rss_mib": max(r["peak_rss_mib"] for r in cold),
        "cached_peak_rss_mib": max(r["peak_rss_mib"] for r in cached),
        "cold_mb_per_s": raw_mb / best(cold, "seconds"),
        "windows": {k: v for k, v in counts.items() if k.startswith("n_")},
        "machine": machine(),
    }
    table = "\n".join(
        [
            f"faultcli prep on {args.recipe} ({raw_mb:.0f} MB of raw .mat files; best of {args.repeats}, "
            "whole process incl. Python start-up)",
            "",
            "| run | wall s | peak RSS MiB | raw MB/s |",
            "|---|---|---|---|",
            f"| cold (read, resample, window, hash, write cache) | {result['cold_seconds']:.2f} | "
            f"{result['cold_peak_rss_mib']:.0f} | {result['cold_mb_per_s']:.1f} |",
            f"| cached (hash inputs, reuse) | {result['cached_seconds']:.2f} | "
            f"{result['cached_peak_rss_mib']:.0f} | – |",
        ]
    )
    write_results("prep", result, table)


if __name__ == "__main__":
    main()
