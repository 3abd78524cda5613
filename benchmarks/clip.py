"""Vibration–text models (`faultcli clip`): Bearing-CLIP's protocol on SEU, SEU across operating conditions,
CWRU closed set (recording-time, cross-load), CWRU zero-shot, the adapter step, text LoRA, and calibrated
stacking for generalised zero-shot.

    python benchmarks/clip.py                      # every suite
    python benchmarks/clip.py --suites seu-own cwru-rt
    python benchmarks/clip.py --suites seu-lora cwru-lora   # align, adapter, adapter + text LoRA (seed 0)
    python benchmarks/clip.py --suites cwru-gzsl            # calibrated stacking, before / after on each run

Writes benchmarks/results/clip.json (suites merge) and the table in clip.md. Every run: one CPU thread, the
checkpoint chosen on validation windows of the training classes; the test split is read only to report.
Settings (encoder, window standardisation, augmentation, epochs) were chosen on the validation columns of
SEU's train_set before any test figure was read (docs/experiments/clip-seu.md); CWRU uses them unchanged,
with the smaller WDCNN encoder.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, ROOT, machine, run_faultcli, write_results  # noqa: E402

SEU, CWRU = "recipes/clip-seu.toml", "recipes/clip-cwru.toml"
CROSS_LOAD = [
    "data.split=by-condition",
    "data.condition=load",
    'data.train_conditions=["0","1","2"]',
    'data.test_conditions=["3"]',
    "data.fractions=[0.8,0.2,0.0]",
    'data.classes=["ball_007","ball_014","ball_021","inner_007","inner_014","inner_021",'
    '"outer_007","outer_014","outer_021"]',
]
ZERO_SHOT = {
    "split 1": '["ball_014","inner_021","outer_007"]',
    "split 2": '["ball_014","inner_014","outer_014"]',
}
SEEDS = (0, 1, 2)
LORA = ["clip.text_lora=true"]


def runs() -> dict[str, list[tuple[str, str, list[str]]]]:
    """Suite → (row name, recipe, overrides) of each run."""
    suites: dict[str, list[tuple[str, str, list[str]]]] = {
        "seu-own": [(f"seed {s}", SEU, [f"seed={s}"]) for s in SEEDS],
        "seu-cross": [
            (
                "20 Hz / 0 V -> 30 Hz / 2 V",
                SEU,
                ['data.split_paths={train="train_set/*20_0_*",test="test_set/*30_2_*"}'],
            ),
            (
                "30 Hz / 2 V -> 20 Hz / 0 V",
                SEU,
                ['data.split_paths={train="train_set/*30_2_*",test="test_set/*20_0_*"}'],
            ),
        ],
        "cwru-rt": [(f"seed {s}", CWRU, [f"seed={s}"]) for s in SEEDS],
        "cwru-crossload": [(f"seed {s}", CWRU, [f"seed={s}", *CROSS_LOAD]) for s in SEEDS],
        "cwru-zeroshot": [
            (
                f"{split}, {text}, {template}",
                CWRU,
                [f"clip.unseen={unseen}", f'clip.templates=["{template}"]']
                + (["clip.text_model=lstm"] if text == "LSTM" else []),
            )
            for split, unseen in ZERO_SHOT.items()
            for text in ("MiniLM", "LSTM")
            for template in ("a-bearing", "structured")
        ],
        "seu-lora": [("seed 0", SEU, ["seed=0"])],
        "cwru-lora": [("seed 0", CWRU, ["seed=0"])],
        # calibrated stacking; every run is also evaluated with the shift off (same weights): before / after
        "cwru-gzsl": [
            (
                f"{split}, MiniLM, {template}, seed {seed}",
                CWRU,
                [
                    f"seed={seed}",
                    f"clip.unseen={unseen}",
                    f'clip.templates=["{template}"]',
                ],
            )
            for seed in SEEDS
            for split, unseen in ZERO_SHOT.items()
            for template in ("a-bearing", "structured")
        ],
    }
    return suites


def gzsl_rows(seeds: list[int]) -> list[tuple[str, str, list[str]]]:
    return [r for r in runs()["cwru-gzsl"] if int(r[0].rsplit(" ", 1)[1]) in seeds]


def adapter_overrides(align_run: Path) -> list[str]:
    return ["clip.mode=adapter", f"train.init={json.dumps(str(align_run))}", "train.epochs=10", "train.lr=3e-3"]


FIGURES = (
    "gzsl_gamma",
    "text_lora_params",
    "text_encoder_params",
    "test_accuracy",
    "test_macro_f1",
    "test_zsl_accuracy",
    "test_gzsl_seen_accuracy",
    "test_gzsl_unseen_accuracy",
    "test_gzsl_h",
    "params",
    "trainable_params",
    "best_epoch",
    "train_seconds",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suites", nargs="*", default=list(runs()), choices=list(runs()))
    parser.add_argument("--no-adapter", action="store_true", help="skip the adapter step after the align runs")
    parser.add_argument("--gzsl-seeds", nargs="*", type=int, default=[0], help="seeds of the cwru-gzsl suite")
    parser.add_argument("--gzsl-rows", nargs="*", default=None, help="cwru-gzsl: only rows naming one of these")
    parser.add_argument(
        "--calibration", default="stacking", choices=("stacking", "pseudo-unseen"), help="cwru-gzsl: how γ is chosen"
    )
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "bench-clip")
    args = parser.parse_args()
    path = RESULTS / "clip.json"
    for suite in args.suites:
        if suite == "cwru-gzsl":
            rows = gzsl_rows(args.gzsl_seeds)
            if args.gzsl_rows:
                rows = [r for r in rows if any(part in r[0] for part in args.gzsl_rows)]
            work = args.work / suite / args.calibration
            measured = [gzsl_run(name, recipe, overrides, args.calibration, work) for name, recipe, overrides in rows]
        else:
            measured = suite_runs(suite, args)
        # read just before writing: another invocation may have written other suites meanwhile; rows merge by run
        results = json.loads(path.read_text()) if path.exists() else {"suites": {}}
        kept = [r for r in results["suites"].get(suite, []) if (r["run"], r["mode"]) not in _keys(measured)]
        kept = [r for r in kept if r["mode"] != "align"]  # calibrated before γ was kept in cosine units
        results["suites"][suite] = kept + measured if suite == "cwru-gzsl" else measured
        results["machine"] = machine()
        write_results("clip", results, table(results))


def _keys(rows: list[dict]) -> set[tuple[str, str]]:
    return {(r["run"], r["mode"]) for r in rows}


def _out(work: Path, name: str) -> Path:
    return work / name.replace(" ", "_").replace("/", "").replace(">", "").replace(",", "")


def suite_runs(suite: str, args: argparse.Namespace) -> list[dict]:
    rows = []
    for name, recipe, overrides in runs()[suite]:
        out = _out(args.work / suite, name)
        common = [*overrides, "train.threads=1"]
        align = run_faultcli(["clip", "train"], recipe, out, common)
        row = {"run": name, "mode": "align", "command": _command(recipe, overrides)}
        rows.append({**row, **{k: align[k] for k in FIGURES if k in align}})
        steps = [("adapter", [])] if suite in ("seu-own", "cwru-rt", "cwru-crossload") else []
        steps += [("adapter", []), ("adapter + text LoRA", LORA)] if suite.endswith("-lora") else []
        if args.no_adapter:
            steps = []
        for mode, extra in steps:
            extra = adapter_overrides(out) + extra
            tag = mode.replace(" + ", "-").replace(" ", "-")
            adapted = run_faultcli(["clip", "train"], recipe, out.with_name(f"{out.name}-{tag}"), common + extra)
            row = {"run": name, "mode": mode, "command": _command(recipe, overrides + extra)}
            rows.append({**row, **{k: adapted[k] for k in FIGURES if k in adapted}})
    return rows


def gzsl_run(name: str, recipe: str, overrides: list[str], calibration: str, work: Path) -> dict:
    """One calibrated-stacking run, and its test evaluation with the shift off (the figures before)."""
    out = _out(work, name)
    overrides = [*overrides, f"clip.calibration={calibration}"]
    after = run_faultcli(["clip", "train"], recipe, out, [*overrides, "train.threads=1"])
    before = run_faultcli(
        ["clip", "eval", "--checkpoint", str(out)], None, out.with_name(out.name + "-none"), ["clip.calibration=none"]
    )
    row = {"run": name, "mode": calibration, "command": _command(recipe, overrides)}
    row.update({k: after[k] for k in FIGURES + CALIBRATION if k in after})
    row.update({f"before_test_{k}": before[k] for k in ZSL_KEYS})
    return row


ZSL_KEYS = ("zsl_accuracy", "gzsl_seen_accuracy", "gzsl_unseen_accuracy", "gzsl_h")
CALIBRATION = ("calibration_pseudo_unseen", "calibration_val_h", "calibration_seconds")


def _command(recipe: str, overrides: list[str]) -> str:
    return "faultcli clip train --recipe " + recipe + "".join(f" --set '{o}'" for o in overrides)


def _pct(value) -> str:
    return "" if value is None else f"{100 * value:.2f}"


def table(results: dict) -> str:
    lines = [
        "| suite | run | mode | test acc. % | macro-F1 % | ZSL acc. % | GZSL seen / unseen / H % | trainable / all "
        "parameters | train s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for suite, rows in results["suites"].items():
        if suite == "cwru-gzsl":
            continue
        for r in rows:
            gzsl = ""
            if "test_gzsl_h" in r:
                gzsl = " / ".join(
                    _pct(r[k]) for k in ("test_gzsl_seen_accuracy", "test_gzsl_unseen_accuracy", "test_gzsl_h")
                )
            params = f"{r.get('trainable_params', r['params']):,} / {r['params']:,}"
            if "text_encoder_params" in r:  # the frozen text encoder's base weights are part of the model
                signal = r["params"] - r["text_encoder_params"]
                params += f" ({r['trainable_params'] / signal:.1%} of the {signal:,} outside the text encoder)"
            lines.append(
                f"| {suite} | {r['run']} | {r['mode']} | {_pct(r['test_accuracy'])} | {_pct(r['test_macro_f1'])} | "
                f"{_pct(r.get('test_zsl_accuracy'))} | {gzsl} | {params} | {r['train_seconds']:.0f} |"
            )
    gzsl = results["suites"].get("cwru-gzsl")
    if gzsl:
        lines += [
            "",
            "Calibrated stacking (cwru-gzsl): each run's test split with the seen classes' shift γ (cosine units) "
            "off (before) and on (after). stacking: γ keeps 95 % of the seen validation windows seen; "
            "pseudo-unseen: γ of the best H of a calibration model trained without the seen classes named "
            "(docs/experiments/clip-zeroshot.md).",
            "",
            "| run | γ from | γ | ZSL % | before: seen / unseen / H % | after: seen / unseen / H % | train s |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in sorted(gzsl, key=lambda r: (r["mode"], r["run"].rsplit(" ", 1)[1], r["run"])):
            before = " / ".join(_pct(r[f"before_test_{k}"]) for k in ZSL_KEYS[1:])
            after = " / ".join(_pct(r[f"test_{k}"]) for k in ZSL_KEYS[1:])
            source = r["mode"]
            if r.get("calibration_pseudo_unseen"):
                source += f" ({', '.join(r['calibration_pseudo_unseen'])}; val H {_pct(r['calibration_val_h'])})"
            seconds = r["train_seconds"] + r.get("calibration_seconds", 0.0)
            lines.append(
                f"| {r['run']} | {source} | {r['gzsl_gamma']:.4f} | {_pct(r['test_zsl_accuracy'])} | {before} | "
                f"{after} | {seconds:.0f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
