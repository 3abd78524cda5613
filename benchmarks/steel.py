"""Steel surface defect classification: NEU (stratified 80/20) and X-SDD (5-fold) with the ablations.

    python benchmarks/steel.py                 # everything: NEU, then 3 X-SDD variants × 5 folds (hours on 2 cores)
    python benchmarks/steel.py --only neu      # or --only xsdd [--variants gate,plain]
    python benchmarks/steel.py --quick         # smoke test: image subsets at 32×32, one short epoch per run

Rows (every model from random initialisation: the runs are offline, with no pretrained weights):
  NEU    edge branch + attention gate, focal loss (recipes/steel-neu.toml)
  X-SDD  edge branch + gate + focal loss        (recipes/steel-xsdd.toml)
         plain backbone + cross-entropy         (--set image.edge_branch=false --set train.loss=ce)
         edge branch, concat without the gate   (--set image.edge_fusion=concat)
Each run is `python -m faultcli finetune` in a child process; results go to benchmarks/results/steel.json
and steel.md (accuracy, macro-F1, minority-class recall as mean ± std over folds, training time).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, machine, run_faultcli, write_results  # noqa: E402

NEU = ("neu", "recipes/steel-neu.toml", "edge branch + gate, focal", [])
XSDD = [
    ("xsdd", "recipes/steel-xsdd.toml", "edge branch + gate, focal", []),
    ("xsdd", "recipes/steel-xsdd.toml", "plain backbone, cross-entropy", ["image.edge_branch=false", "train.loss=ce"]),
    ("xsdd", "recipes/steel-xsdd.toml", "edge branch, concat (no gate), focal", ["image.edge_fusion=concat"]),
]
VARIANTS = {"gate": 0, "plain": 1, "concat": 2}  # --variants picks X-SDD rows by these names
# --quick: a few images per class, tiny inputs, one capped epoch; checks the plumbing, not the figures
QUICK = {
    "neu": ['data.include=["*_1??.jpg"]', "data.image_size=[32, 32]"],
    "xsdd": ['data.include=["*1.jpg", "*1.png", "*2.jpg", "*2.png"]', "data.image_size=[32, 32]", "data.folds=3"],
    "all": ["train.epochs=1", "train.max_train_batches=2", "train.batch_size=16", "train.threads=2"],
}


def run_one(dataset: str, recipe: str, overrides: list[str], out: Path) -> dict:
    summary = run_faultcli(["finetune"], recipe, out, overrides)
    epoch_seconds = []
    for path in sorted(out.glob("**/metrics.jsonl")):
        epoch_seconds += [json.loads(line)["epoch_seconds"] for line in path.read_text().splitlines() if line]
    return {
        **summary,
        "mean_epoch_seconds": float(np.mean(epoch_seconds)) if epoch_seconds else None,
        "command": " ".join(["faultcli finetune --recipe", recipe] + [f"--set {o}" for o in overrides]),
    }


def _pm(summary: dict, key: str, scale: float = 100.0) -> str:
    if f"{key}_mean" in summary:
        return f"{scale * summary[f'{key}_mean']:.2f} ± {scale * summary[f'{key}_std']:.2f}"
    return f"{scale * summary[key]:.2f}" if key in summary else "–"


def table(rows: list[dict], quick: bool) -> str:
    lines = [
        "# Steel surface defect classification" + (" (--quick smoke run: figures mean nothing)" if quick else ""),
        "",
        "All models start from random initialisation: the benchmark runs offline, with no pretrained "
        "weights (the local-weights path is tested with a weights file the test writes itself).",
        "",
        "| data | model | accuracy % | macro-F1 % | min class recall % | train s | s / epoch | command |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        s = r["summary"]
        seconds = s.get("train_seconds_mean", 0) * s.get("folds", 1) if "folds" in s else s.get("train_seconds", 0)
        per_epoch = s.get("mean_epoch_seconds")
        lines.append(
            f"| {r['label']} | {r['variant']} | {_pm(s, 'test_accuracy')} | {_pm(s, 'test_macro_f1')} | "
            f"{_pm(s, 'test_min_class_recall')} | {seconds:.0f} | "
            f"{'' if per_epoch is None else f'{per_epoch:.1f}'} | `{s['command']}` |"
        )
    lines += [
        "",
        "X-SDD: 5-fold stratified cross-validation, mean ± std over folds (fold k test, k+1 validation). "
        "NEU: stratified 80/20 split (validation carved from the 80 %), seed 0.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("neu", "xsdd"), help="run one data set only")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run of every row")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="X-SDD rows to run: gate,plain,concat")
    parser.add_argument("--set", dest="extra", action="append", default=[], help="extra recipe override, every row")
    args = parser.parse_args()
    unknown = set(args.variants.split(",")) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown --variants {sorted(unknown)}; choose from {','.join(VARIANTS)}")
    xsdd = [XSDD[VARIANTS[v]] for v in args.variants.split(",")]
    plan = ([NEU] if args.only in (None, "neu") else []) + (xsdd if args.only in (None, "xsdd") else [])
    rows = []
    with tempfile.TemporaryDirectory(prefix="steel-bench-") as tmp:
        for i, (dataset, recipe, variant, overrides) in enumerate(plan):
            extra = (QUICK[dataset] + QUICK["all"] if args.quick else []) + args.extra
            label = {"neu": "NEU (6 classes, 80/20)", "xsdd": "X-SDD (7 classes, 5-fold)"}[dataset]
            print(f"[{i + 1}/{len(plan)}] {label}: {variant}", flush=True)
            summary = run_one(dataset, recipe, overrides + extra, Path(tmp) / f"run-{i}")
            rows.append(
                {"dataset": dataset, "label": label, "variant": variant, "quick": args.quick, "summary": summary}
            )
    name = "steel-quick" if args.quick else "steel"  # a smoke run never overwrites measured figures
    rows = merge_rows(RESULTS / f"{name}.json", rows)
    write_results(name, {"machine": machine(), "rows": rows}, table(rows, args.quick))


def merge_rows(path: Path, new: list[dict]) -> list[dict]:
    """Earlier rows (e.g. from ``--only neu``) stay unless this run measured the same data set and variant."""
    old = json.loads(path.read_text())["rows"] if path.is_file() else []
    done = {(r["dataset"], r["variant"]) for r in new}
    kept = [r for r in old if (r["dataset"], r["variant"]) not in done]
    order = {(d, v): i for i, (d, _, v, _) in enumerate([NEU, *XSDD])}
    return sorted(kept + new, key=lambda r: order.get((r["dataset"], r["variant"]), len(order)))


if __name__ == "__main__":
    main()
