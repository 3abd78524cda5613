"""Few labels on CWRU: WDCNN fine-tuned from self-supervised pretraining against from scratch, same label subsets.

    python benchmarks/label_scarcity.py --suite dev   # the choice: candidates on the fan-end development task
    python benchmarks/label_scarcity.py               # the reported rows: drive-end, recording-time and cross-load
    python benchmarks/label_scarcity.py --suite seeds # the 1 % rows with fine-tune seeds 1, 2 (after the report)

Protocol and rule (fixed before the runs): docs/experiments/label-scarcity.md. In short: every choice is made
on the fan-end channel (data.channel = FE), recording-time split, 1 % of the train labels, scored by the
accuracy on its validation split at the last epoch. Fine-tuning keeps its last epoch and pretraining keeps its
last epoch, so no label beyond the label_fraction subset picks a checkpoint. Pretraining pools the task's
train windows without labels (never val or test; cross-load pretrains on loads 0-2 only).

The dev suite writes benchmarks/results/label-scarcity-dev.{json,md}, the report suite
benchmarks/results/label-scarcity.{json,md}, the seeds suite label-scarcity-seeds.{json,md} (it reads the
report suite's encoders from runs/bench-scarcity-report). A run folder that already holds a summary.json is
read, not run again (its wall time and peak RSS come from the measured.json written beside it). One thread
per run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, machine, run_faultcli, write_results  # noqa: E402

from faultcli.runs import atomic_write_json  # noqa: E402

# epochs by label share (fixed in the rule, not tuned): about 600-1,500 optimiser steps at 1-10 %
EPOCHS = {0.01: 200, 0.05: 60, 0.1: 40, 1.0: 20}
LAST_EPOCH = ["train.early_stop_metric=epoch", "train.early_stop_mode=max", "train.patience=0"]
ONE_THREAD = ["train.threads=1"]
FE = ["data.channel=FE"]
CROSS_LOAD = [
    "data.split=by-condition",
    "data.condition=load",
    'data.train_conditions=["0", "1", "2"]',
    'data.test_conditions=["3"]',
    "data.fractions=[0.8, 0.2, 0.0]",
    'data.classes=["ball_007", "ball_014", "ball_021", "inner_007", "inner_014", "inner_021", '
    '"outer_007", "outer_014", "outer_021"]',
]

# the development candidates (docs/experiments/label-scarcity.md, stage A: fine-tuning; stage B: pretraining)
FINETUNE = {
    "F0": ["recipes/wdcnn.toml", []],
    "F1": ["recipes/wdcnn.toml", ["train.batch_size=32", *LAST_EPOCH]],
    "F2": ["recipes/wdcnn.toml", ["train.batch_size=32", *LAST_EPOCH, "train.lr_scale={features = 0.1}"]],
    "F3": ["recipes/wdcnn.toml", ["train.batch_size=32", *LAST_EPOCH, "train.lr=1e-2"]],
}
WEAK_VIEWS = [
    "augment.0.noise_std=0.1",
    "augment.0.scale=0.2",
    "augment.0.warp=0.02",
    "augment.0.mask=0.05",
    "augment.0.eq_db=3.0",
    "augment.0.prob=0.5",
]
PRETRAIN = {
    "P1": ["pretrain.probe_every=0"],
    "P2": ["pretrain.probe_every=0", "train.epochs=60"],
    "P3": ["pretrain.probe_every=0", "pretrain.method=masked"],
    "P4": ["pretrain.probe_every=0", *WEAK_VIEWS],
}
PRETRAIN_RECIPE = "recipes/pretrain-cwru.toml"
FEW_LABELS_RECIPE = "recipes/wdcnn-few-labels.toml"
CROSS_LOAD_PRETRAIN = "recipes/pretrain-cwru-cross-load.toml"
CROSS_LOAD_FEW_LABELS = "recipes/wdcnn-few-labels-cross-load.toml"
BAND_LINEAR_RECIPE = "recipes/band-linear.toml"


def finetune_overrides(strategy: str, fraction: float) -> list[str]:
    """The candidate's settings at this label share: the rule's epochs (F1-F3), the freeze of F2 / F3."""
    _, extra = FINETUNE[strategy]
    if strategy == "F0":
        return [f"data.label_fraction={fraction}"]
    epochs = EPOCHS[fraction]
    freeze = {"F2": epochs // 2, "F3": epochs}.get(strategy, 0)
    return [f"data.label_fraction={fraction}", f"train.epochs={epochs}", f"train.freeze_epochs={freeze}", *extra]


def run(command: list[str], recipe: str, out: Path, overrides: list[str]) -> dict:
    """One faultcli run in a child process, or the one already in ``out``."""
    if (out / "summary.json").is_file():
        summary = json.loads((out / "summary.json").read_text())
        measured = out / "measured.json"
        return {**summary, **(json.loads(measured.read_text()) if measured.is_file() else {})}
    print(f"running {out.name}: faultcli {' '.join(command)} --recipe {recipe} " + " ".join(overrides), flush=True)
    result = run_faultcli(command, ROOT / recipe, out, [*overrides, *ONE_THREAD])
    atomic_write_json(out / "measured.json", {k: result[k] for k in ("wall_seconds", "peak_rss_mib")})
    return result


def last_val_accuracy(out: Path) -> float:
    """The validation accuracy of the last epoch (the checkpoint kept), from the run's metrics log."""
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return float(json.loads(lines[-1])["val_acc"])


def pretrain_row(name: str, result: dict) -> dict:
    epochs, seconds = result["epochs_run"], result["train_seconds"]
    return {
        "run": name,
        "method": result["method"],
        "pool_windows": result["pool_windows"],
        "epochs": epochs,
        "train_seconds": round(seconds, 1),
        "windows_per_second": round(result["pool_windows"] * epochs / seconds, 1),
        "peak_rss_mib": round(result.get("peak_rss_mib", float("nan")), 1),
    }


def best(scores: dict[str, float]) -> str:
    """The highest score; a tie goes to the earlier candidate."""
    top = max(scores.values())
    return next(name for name, score in scores.items() if score == top)


def dev_suite(out: Path) -> dict:
    """Stage A (fine-tuning strategy on P1), then stage B (pretraining with the chosen strategy)."""
    rows, pretrains = [], []

    def pretrained(name: str) -> Path:
        folder = out / name
        pretrains.append(pretrain_row(name, run(["pretrain"], PRETRAIN_RECIPE, folder, [*FE, *PRETRAIN[name]])))
        return folder

    def score(name: str, strategy: str, init: Path | None) -> float:
        recipe, _ = FINETUNE[strategy]
        extra = [f"train.init={init}"] if init else []
        folder = out / name
        result = run(["finetune"], recipe, folder, [*FE, *finetune_overrides(strategy, 0.01), *extra])
        accuracy = last_val_accuracy(folder)
        rows.append({"run": name, "init": init.name if init else "scratch", "strategy": strategy,
                     "val_accuracy": round(100 * accuracy, 2), "epochs_run": result["epochs_run"],
                     "train_seconds": round(result["train_seconds"], 1)})  # fmt: skip
        return accuracy

    p1 = pretrained("P1")
    stage_a = {s: score(f"P1-{s}", s, p1) for s in FINETUNE}
    scratch = {s: score(f"scratch-{s}", s, None) for s in ("F0", "F1")}
    strategy = best(stage_a)
    scratch_choice = "F1" if scratch["F1"] >= scratch["F0"] else "F0"
    stage_b = {"P1": stage_a[strategy]}
    for name in ("P2", "P3", "P4"):
        stage_b[name] = score(f"{name}-{strategy}", strategy, pretrained(name))
    choice = {"finetune": strategy, "pretrain": best(stage_b), "scratch": scratch_choice}
    return {"rows": rows, "pretrain": pretrains, "choice": choice}


def report_suite(out: Path) -> dict:
    """The chosen setting once on the drive-end tasks: the few-label recipe from scratch and from the
    pretrained encoder (same label subset), and band_linear from scratch on the same schedule."""
    rows, pretrains = [], []
    tasks = {
        "recording-time": (PRETRAIN_RECIPE, FEW_LABELS_RECIPE, [], (0.01, 0.05, 0.1, 1.0)),
        "cross-load": (CROSS_LOAD_PRETRAIN, CROSS_LOAD_FEW_LABELS, CROSS_LOAD, (0.01, 0.1, 1.0)),
    }
    for task, (pretrain_recipe, recipe, split, fractions) in tasks.items():
        encoder = out / f"{task}-pretrain"
        result = run(["pretrain"], pretrain_recipe, encoder, [])
        pretrains.append({"task": task, **pretrain_row(encoder.name, result)})
        for fraction in fractions:
            common = [f"data.label_fraction={fraction}", f"train.epochs={EPOCHS[fraction]}"]
            figures = {}
            for name, model_recipe, extra in (
                ("scratch", recipe, []),
                ("pretrained", recipe, [f"train.init={encoder}"]),
                ("band_linear", BAND_LINEAR_RECIPE, [*split, "train.batch_size=32", *LAST_EPOCH]),
            ):
                folder = out / f"{task}-{name}-{fraction}"
                result = run(["finetune"], model_recipe, folder, [*common, *extra])
                figures[name] = result
                rows.append({
                    "task": task, "labels": f"{fraction:.0%}", "model": name, "train_windows": result["n_train"],
                    "test_accuracy": round(100 * result["test_accuracy"], 2),
                    "test_macro_f1": round(100 * result["test_macro_f1"], 2),
                    "gain_vs_scratch": "" if name != "pretrained"
                    else round(100 * (result["test_accuracy"] - figures["scratch"]["test_accuracy"]), 2),
                    "epochs": result["epochs_run"], "train_seconds": round(result["train_seconds"], 1),
                })  # fmt: skip
    return {"rows": rows, "pretrain": pretrains}


def seeds_suite(out: Path, report: Path) -> dict:
    """Added after the rule's runs: the 1 % rows again with fine-tune seeds 1 and 2 (same label subset, the
    seed-0 encoders of the report suite), to show how far one seed moves them."""
    rows = []
    tasks = {"recording-time": (FEW_LABELS_RECIPE, []), "cross-load": (CROSS_LOAD_FEW_LABELS, CROSS_LOAD)}
    for seed in (1, 2):
        for task, (recipe, split) in tasks.items():
            common = ["data.label_fraction=0.01", f"train.epochs={EPOCHS[0.01]}", f"seed={seed}"]
            for name, model_recipe, extra in (
                ("scratch", recipe, []),
                ("pretrained", recipe, [f"train.init={report / f'{task}-pretrain'}"]),
                ("band_linear", BAND_LINEAR_RECIPE, [*split, "train.batch_size=32", *LAST_EPOCH]),
            ):
                result = run(["finetune"], model_recipe, out / f"{task}-{name}-seed{seed}", [*common, *extra])
                rows.append({
                    "task": task, "labels": "1%", "seed": seed, "model": name,
                    "test_accuracy": round(100 * result["test_accuracy"], 2),
                    "test_macro_f1": round(100 * result["test_macro_f1"], 2),
                })  # fmt: skip
    return {"rows": rows, "pretrain": []}


def markdown(payload: dict) -> str:
    lines = []
    for key in ("rows", "pretrain"):
        table = payload[key]
        if not table:
            continue
        cols = list(table[0])
        lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(str(row[c]) for c in cols) + " |" for row in table]
        lines.append("")
    if "choice" in payload:
        lines.append("choice: " + ", ".join(f"{k} {v}" for k, v in payload["choice"].items()))
    return "\n".join(lines).rstrip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", choices=("report", "dev", "seeds"), default="report")
    parser.add_argument("--out", type=Path, default=None, help="folder of the runs (default runs/bench-scarcity-*)")
    args = parser.parse_args()
    out = args.out or ROOT / "runs" / f"bench-scarcity-{args.suite}"
    out.mkdir(parents=True, exist_ok=True)
    if args.suite == "seeds":
        payload = seeds_suite(out, ROOT / "runs" / "bench-scarcity-report")
    else:
        payload = dev_suite(out) if args.suite == "dev" else report_suite(out)
    payload = {"suite": args.suite, "machine": machine(), **payload}
    name = {"dev": "label-scarcity-dev", "seeds": "label-scarcity-seeds"}.get(args.suite, "label-scarcity")
    write_results(name, payload, markdown(payload))


if __name__ == "__main__":
    main()
