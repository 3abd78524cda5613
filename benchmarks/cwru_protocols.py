"""WDCNN, the band-spectrum and envelope-spectrum linear baselines and the multimodal models on the CWRU
protocols, one table (protocol × model).

    python benchmarks/cwru_protocols.py                       # everything (hours on 2 cores)
    python benchmarks/cwru_protocols.py --models wdcnn,multimodal_small --protocols cross-load
    python benchmarks/cwru_protocols.py --speed only                 # speed rows only, on an idle machine
    python benchmarks/cwru_protocols.py --models multimodal_small --protocols load-pairs \
        --set vibration.window_norm=true --variant window-norm       # a row beside the plain one
    python benchmarks/cwru_protocols.py --models multimodal_small --speed only \
        --set 'vibration.branches=["time","fft","tf","bands"]' --variant bands   # a variant's speed row

Protocols (model selection on the source's validation windows only, never on test):
  recording-time  10 classes, each recording cut in time into train / val / test
  cross-load      9 fault classes, train loads 0-2, test load 3
  load-pairs      9 fault classes, train on one load, test on each other load (12 pairs)
  cross-size      fault location (normal / ball / inner / outer), train 0.007" + 0.021", test 0.014"
Results merge into benchmarks/results/cwru_protocols.json, so partial runs add up; the table in
cwru_protocols.md is rebuilt from every stored entry. Speed figures per model: training windows/s,
inference windows/s at batch 256, peak memory, parameters, FLOPs per window.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, machine, recording_load, run_faultcli, write_results  # noqa: E402

from faultcli.runs import atomic_write_json  # noqa: E402

RECIPES = {  # each model trains with its own recipe (sizes differ in learning rate, not only in width)
    "wdcnn": "recipes/wdcnn.toml",
    "band_linear": "recipes/band-linear.toml",
    "envelope_linear": "recipes/envelope-linear.toml",
    "multimodal_small": "recipes/small.toml",
    "multimodal_medium": "recipes/medium.toml",
    "multimodal_large": "recipes/large.toml",
}
MODELS = tuple(RECIPES)
LOADS = ("0", "1", "2", "3")
LOCATION_MAP = (
    '{Normal = "normal", B007 = "ball", B014 = "ball", B021 = "ball", IR007 = "inner", '
    'IR014 = "inner", IR021 = "inner", OR007 = "outer", OR014 = "outer", OR021 = "outer"}'
)


def recipe_for(model: str) -> str:
    return RECIPES[model]


def protocol_runs(protocol: str) -> list[tuple[str, list[str]]]:
    """(label, overrides) of each training a protocol needs."""
    fault_classes = (
        '["ball_007","ball_014","ball_021","inner_007","inner_014","inner_021","outer_007","outer_014","outer_021"]'
    )
    if protocol == "recording-time":
        return [("all", ["data.split=recording-time"])]
    if protocol == "cross-load":
        return [
            (
                "0-2to3",
                [
                    "data.split=by-condition",
                    "data.condition=load",
                    f"data.classes={fault_classes}",
                    'data.train_conditions=["0","1","2"]',
                    'data.test_conditions=["3"]',
                    "data.fractions=[0.8, 0.2, 0.0]",
                ],
            )
        ]
    if protocol == "load-pairs":  # one training per source load, tested on the three others
        return [
            (
                f"from{src}",
                [
                    "data.split=by-condition",
                    "data.condition=load",
                    f"data.classes={fault_classes}",
                    f'data.train_conditions=["{src}"]',
                    "data.test_conditions=[" + ",".join(f'"{t}"' for t in LOADS if t != src) + "]",
                    "data.fractions=[0.8, 0.2, 0.0]",
                ],
            )
            for src in LOADS
        ]
    if protocol == "cross-size":
        return [
            (
                "007+021to014",
                [
                    "data.split=by-condition",
                    "data.condition=size",
                    f"data.label_map={LOCATION_MAP}",
                    'data.classes=["normal","ball","inner","outer"]',
                    'data.train_conditions=["0.007","0.021"]',
                    'data.test_conditions=["0.014"]',
                    "data.fractions=[0.7, 0.15, 0.15]",
                ],
            )
        ]
    raise SystemExit(f"unknown protocol {protocol}")


def per_load_accuracy(predictions: Path) -> dict[str, float]:
    pred = pd.read_csv(predictions)
    load = recording_load(pred["file"])
    return {f"load{k}": float((g["true"] == g["predicted"]).mean()) for k, g in pred.groupby(load)}


def train(model: str, overrides: list[str], extra: list[str], out: Path) -> dict:
    """One finetune into ``out``; a run folder that already finished with the same overrides is reused
    (``--runs``: lanes that train different seeds side by side, and a later ensemble, share their runs)."""
    overrides = [f"model.name={model}", *overrides, *extra]
    stamp = out / "benchmark_overrides.json"
    if (out / "summary.json").exists() and stamp.exists():
        if json.loads(stamp.read_text()) != overrides:
            raise SystemExit(f"{out} holds a run with other overrides; remove it or choose another --runs folder")
        return {**json.loads((out / "summary.json").read_text()), "wall_seconds": float("nan")}
    shutil.rmtree(out, ignore_errors=True)  # a run that did not finish starts again
    result = run_faultcli(["finetune"], recipe_for(model), out, overrides)
    atomic_write_json(stamp, overrides)
    return result


def evaluate_ensemble(members: list[Path], out: Path) -> dict:
    """The members' test split evaluated as one ensemble (probabilities averaged) by `faultcli eval`; its
    training seconds are the members' together."""
    missing = [m for m in members if not (m / "summary.json").exists()]
    if missing:
        raise SystemExit(f"{missing[0]} is not trained; train that row (its --variant and --seeds) first")
    shutil.rmtree(out, ignore_errors=True)  # derived from the members alone: always evaluated afresh
    args = ["eval", *(x for member in members for x in ("--checkpoint", str(member))), "--split", "test"]
    summary = run_faultcli(args, None, out, [])
    return {
        "test_accuracy": summary["accuracy"],
        "test_macro_f1": summary["macro_f1"],
        "train_seconds": sum(json.loads((m / "summary.json").read_text())["train_seconds"] for m in members),
        "wall_seconds": summary["wall_seconds"],
    }


def speed(model: str, extra: list[str], window: int = 1024, batch: int = 256) -> dict:
    """Inference windows/s at batch 256 and FLOPs per window, in this process; ``--set model.key=value``
    entries of ``extra`` reach the builder (a variant's branches, say)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from faultcli.config.load import parse_override
    from faultcli.models.layers import fuse_conv_bn
    from faultcli.services.common import build_model

    torch.set_num_threads(2)
    own = {path[1]: value for path, value in map(parse_override, extra) if path[0] == "model" and len(path) == 2}
    net = build_model(model, {"num_classes": 10, "window": window, "sample_rate": 12000, **own})
    params = sum(p.numel() for p in net.parameters())
    net = fuse_conv_bn(net)  # as `faultcli eval` runs it
    x = torch.randn(batch, 1, window)
    with torch.inference_mode():
        net(x[:8])
        with FlopCounterMode(display=False) as counter:
            net(x[:1])
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            net(x)
            best = min(best, time.perf_counter() - started)
    return {
        "infer_windows_per_s": batch / best,
        "flops_per_window": counter.get_total_flops(),
        "params": params,
    }


def table(results: dict) -> str:
    lines = [
        "| protocol | model | accuracy | macro-F1 | worst pair | train s | wall s |",
        "|---|---|---|---|---|---|---|",
    ]
    for key in sorted(results.get("runs", {})):
        r = results["runs"][key]
        worst = f"{r['worst']:.4f}" if "worst" in r else "–"
        lines.append(
            f"| {r['protocol']} | {r['model']} | {r['accuracy']:.4f} | {r['macro_f1']:.4f} | {worst} | "
            f"{r['train_seconds']:.0f} | {r['wall_seconds']:.0f} |"
        )
    lines += [
        "",
        "| model | params | FLOPs/window | infer windows/s (b256) | train windows/s | peak RSS MiB |",
        "|---|---|---|---|---|---|",
    ]
    for model, s in sorted(results.get("speed", {}).items()):
        lines.append(
            f"| {model} | {s['params']:,} | {s['flops_per_window'] / 1e6:.1f} M | "
            f"{s['infer_windows_per_s']:.0f} | {s.get('train_windows_per_s', float('nan')):.0f} | "
            f"{s.get('peak_rss_mib', float('nan')):.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--protocols", default="recording-time,cross-load,load-pairs,cross-size")
    parser.add_argument("--set", dest="extra", action="append", default=[], help="extra recipe override")
    parser.add_argument(
        "--variant",
        default="",
        help="name for what --set changes: its rows sit beside the plain ones (model+variant); "
        "speed rows only with --speed only",
    )
    parser.add_argument(
        "--speed",
        choices=("auto", "only", "skip"),
        default="auto",
        help="speed rows: auto = measured unless --variant; only = no training (use an idle machine); skip",
    )
    parser.add_argument(
        "--results",
        default="cwru_protocols",
        help="results file name under benchmarks/results/ (a development study keeps its own, apart from the table)",
    )
    parser.add_argument(
        "--seeds",
        default="",
        help="train each part once per seed (comma list, e.g. 0,1,2): one row per seed (seed 0 the plain row, "
        "others suffixed seedN)",
    )
    parser.add_argument(
        "--ensemble",
        action="store_true",
        help="with --seeds: also a row for the seeds' models as one ensemble (faultcli eval, probabilities averaged)",
    )
    parser.add_argument(
        "--runs",
        type=Path,
        default=None,
        help="keep run folders here (default: a temporary folder); a run already there is reused, so lanes can "
        "train different --seeds side by side and a last call with every seed and --ensemble only evaluates",
    )
    parser.add_argument(
        "--ensemble-with",
        default="",
        help="with --ensemble: also take the same seeds of another row's runs into the ensemble (its label, e.g. "
        "band_linear+bands128, already trained under --runs), one member per model and seed, equal weights",
    )
    args = parser.parse_args()
    measure_speed = args.speed == "only" or (args.speed == "auto" and not args.variant)
    unknown = sorted(set(args.models.split(",")) - set(RECIPES))
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(RECIPES)}")
    seeds: list[int | None] = [int(x) for x in args.seeds.split(",") if x.strip()] or [None]
    if args.ensemble and len(seeds) < 2:
        parser.error("--ensemble needs two or more --seeds")
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models.split(","):
            label = model + (f"+{args.variant}" if args.variant else "")
            speed_row = speed(model, args.extra) if measure_speed else {}
            for protocol in [] if args.speed == "only" else args.protocols.split(","):
                entries = run_protocol(model, label, protocol, seeds, args, args.runs or Path(tmp), speed_row)
                save(args.results, entries, label, speed_row)
            save(args.results, {}, label, speed_row)


def run_protocol(
    model: str,
    label: str,
    protocol: str,
    seeds: list[int | None],
    args: argparse.Namespace,
    runs: Path,
    speed_row: dict,
) -> dict[str, dict]:
    """Every part of ``protocol`` trained once per seed, and with ``--ensemble`` evaluated as one ensemble:
    the result rows by key. A recording-time run of the plain model fills in ``speed_row``'s training figures."""
    tallies = {seed: Tally() for seed in seeds}
    ensemble = Tally()
    for part, overrides in protocol_runs(protocol):
        folder = runs / label / f"{protocol}-{part}"
        members = []
        for seed in seeds:
            out = folder / ("run" if seed is None else f"seed{seed}")
            r = train(model, overrides, args.extra + ([] if seed is None else [f"seed={seed}"]), out)
            tallies[seed].add(protocol, part, r, out / "test" / "predictions.csv")
            print(f"{protocol} {suffixed(label, seed)} {part}: {tallies[seed].line()}", flush=True)
            members.append(out)
            if protocol == "recording-time" and not args.variant and seed in (None, 0):
                speed_row["train_windows_per_s"] = r["n_train"] * r["epochs_run"] / r["train_seconds"]
                speed_row["peak_rss_mib"] = r["peak_rss_mib"]
                speed_row["train_seconds_recording_time"] = r["train_seconds"]
        if args.ensemble:
            if args.ensemble_with:
                members += [runs / args.ensemble_with / f"{protocol}-{part}" / f"seed{s}" for s in seeds]
            out = folder / f"ensemble{len(members)}{args.ensemble_with}"
            ensemble.add(protocol, part, evaluate_ensemble(members, out), out / "predictions.csv")
            print(f"{protocol} {label} ensemble {part}: {ensemble.line()}", flush=True)
    rows = {suffixed(label, seed): tally for seed, tally in tallies.items()}
    entries = {f"{protocol}/{name}": tally.entry(protocol, name, args.extra) for name, tally in rows.items()}
    if args.ensemble:
        name = suffixed(label, f"ens{len(seeds)}" + (f"-with-{args.ensemble_with}" if args.ensemble_with else ""))
        entries[f"{protocol}/{name}"] = {**ensemble.entry(protocol, name, args.extra), "seeds": seeds}
    return entries


def suffixed(label: str, seed: int | str | None) -> str:
    """A seed's row name: the plain label for seed 0 (or none), else ``label+seedN`` / ``label-seedN``."""
    if seed in (None, 0):
        return label
    name = f"seed{seed}" if isinstance(seed, int) else seed
    return f"{label}{'-' if '+' in label else '+'}{name}"


class Tally:
    """The parts of one protocol's row: accuracies, F1s and seconds per part; per-pair accuracies."""

    def __init__(self) -> None:
        self.accs, self.f1s, self.seconds, self.wall, self.pairs = [], [], [], [], {}

    def add(self, protocol: str, part: str, result: dict, predictions: Path) -> None:
        self.accs.append(result["test_accuracy"])
        self.f1s.append(result["test_macro_f1"])
        self.seconds.append(result["train_seconds"])
        self.wall.append(result["wall_seconds"])
        if protocol == "load-pairs":
            self.pairs.update({f"{part[4:]}->{k[4:]}": v for k, v in per_load_accuracy(predictions).items()})

    def line(self) -> str:
        return f"acc {self.accs[-1]:.4f} f1 {self.f1s[-1]:.4f} ({self.seconds[-1]:.0f} s)"

    def entry(self, protocol: str, label: str, extra: list[str]) -> dict:
        entry = {
            "protocol": protocol,
            "model": label,
            "macro_f1": float(np.mean(self.f1s)),
            "train_seconds": float(np.sum(self.seconds)),
            "wall_seconds": float(np.sum(self.wall)),  # NaN where a stored run was reused
            "overrides": extra,
        }
        if self.pairs:  # the mean over the 12 pairs, and the worst pair
            values = list(self.pairs.values())
            entry.update(accuracy=float(np.mean(values)), worst=float(min(values)), pairs=self.pairs)
        else:
            entry["accuracy"] = float(np.mean(self.accs))
        return entry


def save(name: str, runs: dict, label: str, speed_row: dict) -> None:
    """Merge into the stored results, re-read just before writing: benchmarks running side by side add up."""
    path = RESULTS / f"{name}.json"
    with open(RESULTS / f".{name}.lock", "w") as lock:  # two runs finishing together must not drop a row
        fcntl.flock(lock, fcntl.LOCK_EX)
        results = json.loads(path.read_text()) if path.exists() else {}
        results.setdefault("runs", {}).update(runs)
        if speed_row:
            results.setdefault("speed", {}).setdefault(label, {}).update(speed_row)
        results["machine"] = machine()
        write_results(name, results, table(results))


if __name__ == "__main__":
    main()
