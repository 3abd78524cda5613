"""Domain adaptation across operating conditions with WDCNN: source only against each [adapt] method.

    python benchmarks/transfer.py --suite seu      # SEU 20 Hz -> 30 Hz and 30 Hz -> 20 Hz, every method
    python benchmarks/transfer.py --suite cwru     # CWRU load pairs, source only against the chosen method
    python benchmarks/transfer.py --suite seu-pretrain   # SEU both directions: NT-Xent pretraining, then finetune
    python benchmarks/transfer.py --suite cwru-pairs     # all 12 CWRU load pairs x seeds 0, 1, 2, two runs at a time

Both write benchmarks/results/transfer.json (suites merge) and the table in transfer.md.

Protocol (fixed before the runs; one seed, seed 0; every run uses one CPU thread):
  seu   recipes/seu-speed-adapt.toml. Source: the train_set windows of one speed (their last 20 % of columns
        validate); test: the test_set windows of the other speed; target (unlabelled): the train_set windows of
        the other speed, which share no sample with its test_set windows. Both directions, each method.
  cwru  recipes/cwru-load-adapt.toml, 9 fault classes, one source load, one target load (0 -> 3, 3 -> 0,
        1 -> 2). CWRU has one recording per class and load, so the target windows are the test load's windows,
        read without labels (transductive adaptation; the test labels are read only by the evaluation).
  seu-pretrain (added after the rule's runs; not a candidate of the rule): recipes/pretrain-seu.toml, NT-Xent
        on the source's train windows plus the target's train_set windows without labels, then a finetune of
        recipes/seu-speed-adapt.toml on the source alone (adapt.method = none) from the pretrained encoder.
  Every run: the checkpoint is chosen on the source's validation windows; the table also gives the last
  epoch's test accuracy. Target labels are never read in training.

Method-choice rule (written before any adaptation run): the development direction is SEU 20 -> 30. The
method of adabn, coral, mmd, dann with the highest test accuracy at the chosen epoch there is "the chosen
method" (a tie goes to the simpler one, in that order). Its figures on the development direction are not
held out; SEU 30 -> 20 and the CWRU pairs are, and on them every figure is reported as it comes, including
methods that do not help. The recipes' settings (epochs, adapt.weight = 1, window_norm) are fixed before the
adaptation runs; window_norm = true was set on the development direction from source-only runs alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, ROOT, machine, run_faultcli, write_results  # noqa: E402

METHODS = ("none", "adabn", "coral", "mmd", "dann")  # candidates in the rule's order of simplicity, after none
DEVELOPMENT = "20->30"
SEU_RECIPE = "recipes/seu-speed-adapt.toml"
CWRU_RECIPE = "recipes/cwru-load-adapt.toml"
PRETRAIN_RECIPE = "recipes/pretrain-seu.toml"
SPEEDS = {"20": "20_0", "30": "30_2"}
CWRU_PAIRS = (("0", "3"), ("3", "0"), ("1", "2"))
ALL_PAIRS = tuple((s, t) for s in "0123" for t in "0123" if s != t)
SEEDS = (0, 1, 2)


def seu_overrides(source: str, target: str) -> list[str]:
    s, t = SPEEDS[source], SPEEDS[target]
    return [
        f'data.train_conditions=["{source}"]',
        f'data.test_conditions=["{target}"]',
        f'data.include=["train_set/*{s}_train.csv", "test_set/*{t}_test.csv"]',
        f'adapt.target_include=["train_set/*{t}_train.csv"]',
    ]


def cwru_overrides(source: str, target: str) -> list[str]:
    return [f'data.train_conditions=["{source}"]', f'data.test_conditions=["{target}"]']


def pretrain_then_finetune(source: str, target: str, runs: Path) -> dict:
    """faultcli pretrain (source windows + the target's train_set windows, unlabelled) --then-finetune."""
    direction = seu_overrides(source, target)
    pre = [*direction, f'pretrain.extra_include=["train_set/*{SPEEDS[target]}_train.csv"]', "train.threads=1"]
    fine = [*direction, "adapt.method=none", "train.threads=1"]
    command = ["pretrain", "--then-finetune", str(ROOT / SEU_RECIPE)]
    for item in fine:
        command += ["--finetune-set", item]
    print(f"seu-pretrain {source}->{target}: faultcli {' '.join(command)} --recipe {PRETRAIN_RECIPE} {pre}", flush=True)
    return run_faultcli(command, ROOT / PRETRAIN_RECIPE, runs / f"seu-pretrain-{source}to{target}", pre)


def row(suite: str, direction: str, method: str, summary: dict) -> dict:
    return {
        "suite": suite,
        "direction": direction,
        "method": method,
        "test_accuracy": summary["test_accuracy"],
        "test_macro_f1": summary["test_macro_f1"],
        "chosen_epoch": summary["best_epoch"],
        "val_macro_f1": summary.get("best_val_macro_f1"),
        "last_epoch": summary.get("last_epoch", summary["epochs_run"]),
        "last_test_accuracy": summary.get("last_test_accuracy"),
        "target_windows": summary.get("adapt_target_windows", 0),
        "train_seconds": summary["train_seconds"],
        "wall_seconds": summary["wall_seconds"],
    }


def run(recipe: str, overrides: list[str], method: str, runs: Path, label: str) -> dict:
    out = runs / label
    sets = [*overrides, f"adapt.method={method}", "train.threads=1"]
    print(f"{label}: faultcli finetune --recipe {recipe} " + " ".join(f"--set '{s}'" for s in sets), flush=True)
    return run_faultcli(["finetune"], ROOT / recipe, out, sets)


def chosen_method(rows: list[dict]) -> str:
    """The rule: the best test accuracy on the development direction among the adaptation methods."""
    dev = {r["method"]: r["test_accuracy"] for r in rows if r["suite"] == "seu" and r["direction"] == DEVELOPMENT}
    candidates = [m for m in METHODS[1:] if m in dev]
    if not candidates:
        raise SystemExit("no SEU development runs stored yet; run --suite seu first")
    return max(candidates, key=lambda m: (dev[m], -METHODS.index(m)))


def pairs_table(rows: list[dict]) -> list[str]:
    """The 12 load pairs: each pair's mean over seeds per method, then the mean and worst pair."""
    import numpy as np

    methods = sorted({r["method"] for r in rows}, key=lambda m: m != "none")
    pairs = sorted({r["direction"] for r in rows})
    acc = {
        (p, m): [r["test_accuracy"] for r in rows if r["direction"] == p and r["method"] == m]
        for p in pairs
        for m in methods
    }
    lines = [
        "",
        f"## All 12 CWRU load pairs, seeds {', '.join(str(s) for s in SEEDS)} (test accuracy, mean over seeds)",
        "",
        "| source -> target | " + " | ".join(methods) + " |",
        "|---|" + "---|" * len(methods),
    ]
    for p in pairs:
        lines.append(f"| {p} | " + " | ".join(f"{100 * np.mean(acc[p, m]):.2f}" for m in methods) + " |")
    means = {m: [np.mean(acc[p, m]) for p in pairs] for m in methods}
    lines.append("| **mean of pairs** | " + " | ".join(f"**{100 * np.mean(means[m]):.2f}**" for m in methods) + " |")
    lines.append("| worst pair | " + " | ".join(f"{100 * min(means[m]):.2f}" for m in methods) + " |")
    return lines


def table(stored: dict) -> str:
    rows = [r for r in stored["rows"] if r["suite"] != "cwru-pairs"]
    lines = [
        "# Domain adaptation with WDCNN (source only against each [adapt] method)",
        "",
        "`python benchmarks/transfer.py --suite seu` and `--suite cwru`; one seed; checkpoint chosen on source "
        "validation; *last* = the last epoch's model. Development direction (choices made there, not held out): "
        f"SEU {DEVELOPMENT}. Chosen method: **{stored.get('chosen', '?')}**.",
        "",
        "| suite | source -> target | method | test acc | Δ vs source only | macro-F1 | chosen epoch | last-epoch "
        "test acc | source val F1 | target windows | train s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    base = {(r["suite"], r["direction"]): r["test_accuracy"] for r in rows if r["method"] == "none"}
    for r in rows:
        ref = base.get(("seu" if r["suite"] == "seu-pretrain" else r["suite"], r["direction"]))
        delta = "" if r["method"] == "none" or ref is None else f"{100 * (r['test_accuracy'] - ref):+.1f}"
        held = " (dev)" if r["suite"].startswith("seu") and r["direction"] == DEVELOPMENT else ""
        last = r["last_test_accuracy"]
        lines.append(
            f"| {r['suite']} | {r['direction']}{held} | {r['method']} | {100 * r['test_accuracy']:.2f} | {delta} | "
            f"{100 * r['test_macro_f1']:.2f} | {r['chosen_epoch']} / {r['last_epoch']} | "
            f"{'' if last is None else f'{100 * last:.2f}'} | {100 * (r['val_macro_f1'] or 0):.2f} | "
            f"{r['target_windows']} | {r['train_seconds']:.0f} |"
        )
    pairs = [r for r in stored["rows"] if r["suite"] == "cwru-pairs"]
    return "\n".join(lines + (pairs_table(pairs) if pairs else []))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", choices=("seu", "cwru", "seu-pretrain", "cwru-pairs"), required=True)
    parser.add_argument("--runs", type=Path, default=None, help="keep the run folders here (default: temporary)")
    args = parser.parse_args()
    path = RESULTS / "transfer.json"
    stored = json.loads(path.read_text()) if path.exists() else {"rows": []}
    stored["rows"] = [r for r in stored["rows"] if r["suite"] != args.suite]
    with tempfile.TemporaryDirectory() as tmp:
        runs = args.runs or Path(tmp)
        if args.suite == "seu":
            for source, target in (("20", "30"), ("30", "20")):
                for method in METHODS:
                    label = f"seu-{source}to{target}-{method}"
                    summary = run(SEU_RECIPE, seu_overrides(source, target), method, runs, label)
                    stored["rows"].append(row("seu", f"{source}->{target}", method, summary))
            stored["chosen"] = chosen_method(stored["rows"])
        elif args.suite == "seu-pretrain":
            for source, target in (("20", "30"), ("30", "20")):
                summary = pretrain_then_finetune(source, target, runs)
                result = row("seu-pretrain", f"{source}->{target}", "ntxent pretrain, then none", summary)
                result["pretrain_knn_test_accuracy"] = summary["pretrain"]["test_knn_accuracy"]
                result["target_windows"] = summary["pretrain"]["pool_unlabelled"]  # in the pretraining pool
                stored["rows"].append(result)
        elif args.suite == "cwru-pairs":
            method = chosen_method(stored["rows"])
            jobs = [(s, t, m, seed) for s, t in ALL_PAIRS for seed in SEEDS for m in ("none", method)]

            def one(job: tuple[str, str, str, int]) -> dict:
                s, t, m, seed = job
                summary = run(
                    CWRU_RECIPE, [*cwru_overrides(s, t), f"seed={seed}"], m, runs, f"pairs-{s}to{t}-{m}-{seed}"
                )
                return {**row("cwru-pairs", f"{s}->{t}", m, summary), "seed": seed}

            with ThreadPoolExecutor(2) as pool:  # two one-thread runs side by side, one a core
                stored["rows"].extend(pool.map(one, jobs))
        else:
            method = chosen_method(stored["rows"])
            for source, target in CWRU_PAIRS:
                for m in ("none", method):
                    summary = run(CWRU_RECIPE, cwru_overrides(source, target), m, runs, f"cwru-{source}to{target}-{m}")
                    stored["rows"].append(row("cwru", f"{source}->{target}", m, summary))
    order = ("seu", "seu-pretrain", "cwru", "cwru-pairs")
    stored["rows"].sort(
        key=lambda r: (order.index(r["suite"]), r["direction"] != DEVELOPMENT, r["direction"], r.get("seed", 0))
    )
    stored["machine"] = machine()
    write_results("transfer", stored, table(stored))


if __name__ == "__main__":
    main()
