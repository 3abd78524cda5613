"""Vibration–text models (`faultcli clip`): Bearing-CLIP's protocol on SEU, SEU across operating conditions,
CWRU closed set (recording-time, cross-load), CWRU zero-shot, and the adapter step.

    python benchmarks/clip.py                      # every suite
    python benchmarks/clip.py --suites seu-own cwru-rt

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
    }
    return suites


def adapter_overrides(align_run: Path) -> list[str]:
    return ["clip.mode=adapter", f"train.init={json.dumps(str(align_run))}", "train.epochs=10", "train.lr=3e-3"]


FIGURES = (
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
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "bench-clip")
    args = parser.parse_args()
    path = RESULTS / "clip.json"
    measured = {}
    for suite in args.suites:
        rows = []
        for name, recipe, overrides in runs()[suite]:
            out = args.work / suite / name.replace(" ", "_").replace("/", "").replace(">", "")
            common = [*overrides, "train.threads=1"]
            align = run_faultcli(["clip", "train"], recipe, out, common)
            row = {"run": name, "mode": "align", "command": _command(recipe, overrides)}
            rows.append({**row, **{k: align[k] for k in FIGURES if k in align}})
            if not args.no_adapter and suite in ("seu-own", "cwru-rt", "cwru-crossload"):
                extra = adapter_overrides(out)
                adapted = run_faultcli(["clip", "train"], recipe, out.with_name(out.name + "-adapter"), common + extra)
                row = {"run": name, "mode": "adapter", "command": _command(recipe, overrides + extra)}
                rows.append({**row, **{k: adapted[k] for k in FIGURES if k in adapted}})
        measured[suite] = rows
    # read just before writing: another invocation may have written other suites meanwhile
    results = json.loads(path.read_text()) if path.exists() else {"suites": {}}
    results["suites"].update(measured)
    results["machine"] = machine()
    write_results("clip", results, table(results))


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
        for r in rows:
            gzsl = ""
            if "test_gzsl_h" in r:
                gzsl = " / ".join(
                    _pct(r[k]) for k in ("test_gzsl_seen_accuracy", "test_gzsl_unseen_accuracy", "test_gzsl_h")
                )
            params = f"{r.get('trainable_params', r['params']):,} / {r['params']:,}"
            lines.append(
                f"| {suite} | {r['run']} | {r['mode']} | {_pct(r['test_accuracy'])} | {_pct(r['test_macro_f1'])} | "
                f"{_pct(r.get('test_zsl_accuracy'))} | {gzsl} | {params} | {r['train_seconds']:.0f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
