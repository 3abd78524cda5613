"""Domain adaptation across operating conditions with WDCNN: source only against each [adapt] method.

    python benchmarks/transfer.py --suite seu      # SEU 20 Hz -> 30 Hz and 30 Hz -> 20 Hz, every method
    python benchmarks/transfer.py --suite cwru     # CWRU load pairs, source only against the chosen method
    python benchmarks/transfer.py --suite seu-pretrain   # SEU both directions: NT-Xent pretraining, then finetune
    python benchmarks/transfer.py --suite cwru-pairs     # all 12 CWRU load pairs x seeds 0, 1, 2, two runs at a time

    python benchmarks/transfer.py --suite seu-orders       # SEU with speed normalisation: choice, then both directions
    python benchmarks/transfer.py --suite seu-orders-clip  # the same for the vibration-text model
    python benchmarks/transfer.py --suite seu-stretch      # SEU: do class lines move with the stated speed?

All write benchmarks/results/transfer.json (suites merge) and the table in transfer.md.

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

  seu-orders, seu-orders-clip: docs/experiments/seu-speed-transfer.md (rule fixed before the runs). Each window's
        shaft speed comes from its file name (data.speed_regex). Choices are made on the development check only
        (20 -> 30, scored on the 30 Hz train_set windows, never on a test_set label): first the speed
        normalisation and model (source only), then the adaptation method; then the chosen setting runs once
        with every method in both directions on the test_set protocol above. seu-orders-clip does the same for
        recipes/clip-seu.toml's speed normalisation (no adaptation method).

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

from faultcli.runs import atomic_write_json, atomic_write_text  # noqa: E402

METHODS = ("none", "adabn", "coral", "mmd", "dann")  # candidates in the rule's order of simplicity, after none
DEVELOPMENT = "20->30"
SEU_RECIPE = "recipes/seu-speed-adapt.toml"
CWRU_RECIPE = "recipes/cwru-load-adapt.toml"
PRETRAIN_RECIPE = "recipes/pretrain-seu.toml"
SPEEDS = {"20": "20_0", "30": "30_2"}
CWRU_PAIRS = (("0", "3"), ("3", "0"), ("1", "2"))
CLIP_RECIPE = "recipes/clip-seu.toml"
SPEED_REGEX = "data.speed_regex='(?P<shaft_hz>\\d+)_\\d+_'"  # a TOML literal string: the name's speed in Hz
MULTI = ["model.name=multimodal_small", 'vibration.branches=["fft", "envelope"]']
ORDER_SPECTRA = ["vibration.order_normalize=true", "vibration.nominal_rpm=1800"]  # the grid the faster speed fills
ANGULAR = ["data.order_rpm=1200"]  # the slowest speed: every column still fills a window
# candidates in the rule's order (a tie goes to the earlier one)
ORDER_CANDIDATES = {
    "S1 wdcnn": [],
    "S2 wdcnn + angular resampling": ANGULAR,
    "S3 multimodal fft+envelope": MULTI,
    "S4 multimodal fft+envelope + order spectra": MULTI + ORDER_SPECTRA,
}
CLIP_CANDIDATES = {
    "K1 clip-seu": [],
    "K2 clip-seu + angular resampling": ANGULAR,
    "K3 clip-seu + order spectra": ORDER_SPECTRA,
}
ALL_PAIRS = tuple((s, t) for s in "0123" for t in "0123" if s != t)
SEEDS = (0, 1, 2)
ORDER_SUITES = ("seu-orders", "seu-orders-clip")
# also the order of the stored rows
SUITES = ("seu", "seu-pretrain", "cwru", "cwru-pairs", "seu-stretch", *ORDER_SUITES)


def seu_overrides(source: str, target: str) -> list[str]:
    s, t = SPEEDS[source], SPEEDS[target]
    return [
        f'data.train_conditions=["{source}"]',
        f'data.test_conditions=["{target}"]',
        f'data.include=["train_set/*{s}_train.csv", "test_set/*{t}_test.csv"]',
        f'adapt.target_include=["train_set/*{t}_train.csv"]',
    ]


def seu_dev_overrides() -> list[str]:
    """20 -> 30 scored on the 30 Hz train_set windows (also the unlabelled target): no test_set file is read."""
    return [*seu_overrides("20", "30")[:2], 'data.include=["train_set/*20_0_train.csv", "train_set/*30_2_train.csv"]']


def clip_split(source: str, target: str, test_folder: str = "test_set") -> str:
    s, t = SPEEDS[source], SPEEDS[target]
    return f'data.split_paths={{train="train_set/*{s}_*",test="{test_folder}/*{t}_*"}}'


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


def best(scores: dict[str, float]) -> str:
    """The highest score; a tie goes to the earliest candidate (``scores`` is in the rule's order)."""
    names = list(scores)
    return max(names, key=lambda n: (scores[n], -names.index(n)))


def seu_orders(stored: dict, runs: Path, save) -> None:
    """The rule of docs/experiments/seu-speed-transfer.md: model and normalisation, then method, on the
    development check; then the chosen setting with every method, both directions, tested on test_set."""

    def add(phase: str, candidate: str, direction: str, method: str, summary: dict) -> dict:
        result = {**row("seu-orders", direction, method, summary), "phase": phase, "candidate": candidate}
        stored["rows"].append(result)
        save()
        return result

    dev = seu_dev_overrides()
    scores = {}
    for name, extra in ORDER_CANDIDATES.items():
        summary = run(SEU_RECIPE, [SPEED_REGEX, *dev, *extra], "none", runs, f"orders-dev-{name.split()[0]}-none")
        scores[name] = add("dev", name, "20->30", "none", summary)["test_accuracy"]
    candidate = best(scores)
    extra = ORDER_CANDIDATES[candidate]
    methods = {}
    for method in METHODS[1:]:
        summary = run(SEU_RECIPE, [SPEED_REGEX, *dev, *extra], method, runs, f"orders-dev-chosen-{method}")
        methods[method] = add("dev", candidate, "20->30", method, summary)["test_accuracy"]
    stored["orders_chosen"] = {"candidate": candidate, "method": best(methods)}
    for source, target in (("20", "30"), ("30", "20")):
        for method in METHODS:
            label = f"orders-{source}to{target}-{method}"
            summary = run(SEU_RECIPE, [SPEED_REGEX, *seu_overrides(source, target), *extra], method, runs, label)
            add("test", candidate, f"{source}->{target}", method, summary)


def seu_orders_clip(stored: dict, runs: Path, save) -> None:
    """The vibration-text model: speed normalisation chosen on the development check, then both directions."""

    def add(phase: str, candidate: str, direction: str, summary: dict) -> dict:
        result = {**row("seu-orders-clip", direction, "clip", summary), "phase": phase, "candidate": candidate}
        stored["rows"].append(result)
        save()
        return result

    def clip(sets: list[str], label: str) -> dict:
        sets = [SPEED_REGEX, *sets, "train.threads=1"]
        print(f"{label}: faultcli clip train --recipe {CLIP_RECIPE} " + " ".join(f"--set '{s}'" for s in sets))
        return run_faultcli(["clip", "train"], ROOT / CLIP_RECIPE, runs / label, sets)

    scores = {}
    for name, extra in CLIP_CANDIDATES.items():
        summary = clip([clip_split("20", "30", "train_set"), *extra], f"orders-clip-dev-{name.split()[0]}")
        scores[name] = add("dev", name, "20->30", summary)["test_accuracy"]
    candidate = best(scores)
    stored["orders_clip_chosen"] = candidate
    for source, target in (("20", "30"), ("30", "20")):
        summary = clip([clip_split(source, target), *CLIP_CANDIDATES[candidate]], f"orders-clip-{source}to{target}")
        add("test", candidate, f"{source}->{target}", summary)


STRETCHES = (0.8, 0.9, 1.0, 1.05, 1.1, 1.2, 1.3, 1.4, 1.5)


def seu_stretch() -> dict:
    """Where do the 30 Hz windows' class lines sit, against the 20 Hz ones? A linear classifier of log FFT and
    log envelope spectra (per-window standardised) trained on the 20 Hz train_set windows, scored on the 30 Hz
    train_set windows read at k times each bin (k = 1.5: in orders of shaft speed). train_set only."""
    import numpy as np
    import pandas as pd
    from scipy.signal import hilbert
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    states = ("health", "ball", "inner", "outer", "comb")
    folder = ROOT / "../shared/data/seu-bearing/train_set"

    def windows(cond: str) -> tuple[np.ndarray, np.ndarray]:
        x = [pd.read_csv(folder / f"{s}{cond}_train.csv", header=None).to_numpy().T for s in states]
        y = np.concatenate([np.full(len(w), i) for i, w in enumerate(x)])
        x = np.concatenate(x)
        return (x - x.mean(1, keepdims=True)) / x.std(1, keepdims=True), y

    def spectra(x: np.ndarray, kind: str, k: float) -> np.ndarray:
        w = np.hanning(x.shape[1])
        if kind == "fft":
            spec = np.log(np.abs(np.fft.rfft(x * w, axis=1)) + 1e-3)
        else:
            env = np.abs(hilbert(x, axis=1))
            spec = np.log1p(np.abs(np.fft.rfft((env - env.mean(1, keepdims=True)) * w, axis=1)))
        bins = np.arange(spec.shape[1])
        grid = bins[: int(bins[-1] / max(STRETCHES)) + 1] * k  # the band every stretch can read
        return np.stack([np.interp(grid, bins, row) for row in spec])

    (a, ya), (b, yb) = windows(SPEEDS["20"]), windows(SPEEDS["30"])
    out = {}
    for kind in ("fft", "envelope"):
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000)).fit(spectra(a, kind, 1), ya)
        out[kind] = {str(k): float(clf.score(spectra(b, kind, k), yb)) for k in STRETCHES}
    return out


def stretch_table(scan: dict) -> list[str]:
    return [
        "",
        "## Where the class lines sit across speeds (`--suite seu-stretch`, train_set windows only)",
        "",
        "A linear classifier of 20 Hz log spectra, scored on 30 Hz spectra read at k x each frequency (k = 1.5: "
        "the same shaft orders; chance 20 %).",
        "",
        "| spectrum | " + " | ".join(f"k = {k}" for k in STRETCHES) + " |",
        "|---|" + "---|" * len(STRETCHES),
        *(f"| {kind} | " + " | ".join(f"{100 * v:.1f}" for v in row.values()) + " |" for kind, row in scan.items()),
    ]


def orders_table(rows: list[dict], stored: dict) -> list[str]:
    """Speed normalisation: the development check, then the test rows of the chosen settings."""
    chosen = stored.get("orders_chosen", {})
    lines = [
        "",
        "## Speed normalisation (`--suite seu-orders`, `--suite seu-orders-clip`)",
        "",
        "Rule: docs/experiments/seu-speed-transfer.md. *dev* rows: 20->30 scored on the 30 Hz train_set windows "
        "(the choices); *test* rows: the chosen setting on the test_set protocol (20->30 is the development "
        f"direction, 30->20 held out). Chosen: {chosen.get('candidate', '?')}, method {chosen.get('method', '?')}; "
        f"vibration-text: {stored.get('orders_clip_chosen', '?')}.",
        "",
        "| suite | phase | candidate | source -> target | method | acc | macro-F1 | chosen epoch | source val F1 | "
        "train s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['suite']} | {r['phase']} | {r['candidate']} | {r['direction']} | {r['method']} | "
            f"{100 * r['test_accuracy']:.2f} | {100 * r['test_macro_f1']:.2f} | {r['chosen_epoch']} / "
            f"{r['last_epoch']} | {100 * (r['val_macro_f1'] or 0):.2f} | {r['train_seconds']:.0f} |"
        )
    return lines


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
    rows = [r for r in stored["rows"] if r["suite"] not in ("cwru-pairs", *ORDER_SUITES)]
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
    orders = [r for r in stored["rows"] if r["suite"] in ORDER_SUITES]
    lines += pairs_table(pairs) if pairs else []
    lines += stretch_table(stored["stretch"]) if "stretch" in stored else []
    return "\n".join(lines + (orders_table(orders, stored) if orders else []))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", choices=SUITES, required=True)
    parser.add_argument("--runs", type=Path, default=None, help="keep the run folders here (default: temporary)")
    args = parser.parse_args()
    path = RESULTS / "transfer.json"
    stored = json.loads(path.read_text()) if path.exists() else {"rows": []}
    stored["rows"] = [r for r in stored["rows"] if r["suite"] != args.suite]

    def save(final: bool = False) -> None:  # after every run: a long suite that stops keeps the rows it measured
        stored["machine"] = machine()
        if final:
            write_results("transfer", stored, table(stored))
        else:
            atomic_write_json(path, stored)
            atomic_write_text(path.with_suffix(".md"), table(stored) + "\n")

    with tempfile.TemporaryDirectory() as tmp:
        runs = args.runs or Path(tmp)
        if args.suite == "seu-stretch":
            stored["stretch"] = seu_stretch()
        elif args.suite == "seu-orders":
            seu_orders(stored, runs, save)
        elif args.suite == "seu-orders-clip":
            seu_orders_clip(stored, runs, save)
        elif args.suite == "seu":
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
    stored["rows"].sort(
        key=lambda r: (
            SUITES.index(r["suite"]),
            r.get("phase") == "test",
            r["direction"] != DEVELOPMENT,
            r["direction"],
            r.get("seed", 0),
        )
    )
    save(final=True)


if __name__ == "__main__":
    main()
