"""Fuzz every reader and the recipe loader with the long Hypothesis profile and count the outcomes.

    python benchmarks/fuzz.py                 # 1,000 cases per target (the "long" profile)
    python benchmarks/fuzz.py --examples 100  # quicker

Writes benchmarks/results/fuzz.json and fuzz.md: per target the cases run, values accepted (finite, right
type), one-line UserErrors, and the failures: other exceptions, hangs (a per-case time limit), corrupt
values accepted, messages that are not one line, decoder chatter on stderr. The targets are those of
tests/fuzz/targets.py; unlike the tests, a failure is counted and the run goes on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, settings  # noqa: E402

from tests.fuzz.targets import CASE_SECONDS, TARGETS, AcceptedCorrupt, Chatter, Hang, time_limit  # noqa: E402

FAILURES = ("unhandled", "hang", "accepted_corrupt", "not_one_line", "chatter")


def classify(err: BaseException) -> str:
    if isinstance(err, Hang):
        return "hang"
    if isinstance(err, AcceptedCorrupt):
        return "accepted_corrupt"
    if isinstance(err, Chatter):
        return "chatter"
    if isinstance(err, AssertionError) and "one non-empty line" in str(err):
        return "not_one_line"
    return "unhandled"


def fuzz_target(name: str, examples: int) -> dict:
    target = TARGETS[name]
    counts: Counter[str] = Counter()
    examples_seen: dict[str, dict] = {}
    slowest = 0.0

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(target.strategy)
    def body(case):
        nonlocal slowest
        start = time.monotonic()
        try:
            with tempfile.TemporaryDirectory() as folder, time_limit():
                counts[target.run(case, Path(folder))] += 1
        except Exception as err:  # counted, not raised: the run goes on to the next case
            kind = classify(err)
            counts[kind] += 1
            key = f"{kind}: {type(err).__name__}"
            if key not in examples_seen:
                examples_seen[key] = {"message": str(err)[:300], "case": repr(case)[:300]}
            examples_seen[key]["count"] = examples_seen[key].get("count", 0) + 1
        slowest = max(slowest, time.monotonic() - start)

    start = time.monotonic()
    body()
    return {
        "cases": sum(counts.values()),
        "ok": counts["ok"],
        "user_error": counts["error"],
        **{kind: counts[kind] for kind in FAILURES},
        "seconds": round(time.monotonic() - start, 1),
        "slowest_case_s": round(slowest, 2),
        "failures": examples_seen,
    }


def markdown(result: dict) -> str:
    lines = [
        f"# Fuzzed inputs: {result['examples_per_target']} cases per target ({result['label']})",
        "",
        f"`{result['command']}` on {result['machine']}; per-case limit {CASE_SECONDS:g} s.",
        "",
        "| target | cases | value accepted | UserError | unhandled | hangs | corrupt accepted | not one line "
        "| stderr chatter | seconds |",
        "|---|" + "---:|" * 9,
    ]
    for name, row in result["targets"].items():
        cells = [row["cases"], row["ok"], row["user_error"], *(row[k] for k in FAILURES), row["seconds"]]
        lines.append(f"| {name} | " + " | ".join(str(c) for c in cells) + " |")
    totals = result["totals"]
    lines.append("| **all** | " + " | ".join(str(totals[k]) for k in ("cases", "ok", "user_error", *FAILURES)) + " | |")
    failures = [(n, k, v) for n, row in result["targets"].items() for k, v in row["failures"].items()]
    if failures:
        lines += ["", "## Failures (first case of each kind)", ""]
        lines += [f"- {n}: {k} ×{v['count']}: {v['message'][:160]!r} on {v['case'][:120]}" for n, k, v in failures]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000, help="cases per target (long profile: 1000)")
    parser.add_argument("--only", default="", help="run only targets whose name contains this text")
    parser.add_argument("--label", default="long profile", help="what the table's title says was run")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results", help="results folder")
    args = parser.parse_args()
    names = [n for n in TARGETS if args.only in n]
    targets = {}
    for name in names:
        targets[name] = fuzz_target(name, args.examples)
        row = targets[name]
        print(f"{name}: {row['cases']} cases, {row['user_error']} errors, "
              f"{sum(row[k] for k in FAILURES)} failures, {row['seconds']} s", flush=True)  # fmt: skip
    totals = {k: sum(t[k] for t in targets.values()) for k in ("cases", "ok", "user_error", *FAILURES)}
    result = {
        "label": args.label,
        "command": "python benchmarks/fuzz.py " + " ".join(sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "examples_per_target": args.examples,
        "targets": targets,
        "totals": totals,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "fuzz.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (args.out / "fuzz.md").write_text(markdown(result), encoding="utf-8")
    print(f"wrote {args.out / 'fuzz.json'} and fuzz.md: {totals}")


if __name__ == "__main__":
    main()
