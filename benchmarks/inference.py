"""Inference speed of every model family: PyTorch eager, TorchScript, ONNX Runtime fp32 and int8, measured
side by side in one process, plus `faultcli predict` over the bundled CWRU folder.

Run: ``python benchmarks/inference.py --checkpoint runs/finetune/<small run> [--threads 2] [--rounds 7]``;
writes ``benchmarks/results/inference.json`` and ``inference.md``.

- Each family is exported with `faultcli export` (parity proven on its own data); the ``small`` model is the
  trained checkpoint given, the other families are built with random weights (speed does not depend on
  the weights) and checked for parity on small generated datasets (images at 192 × 192).
- Latency: one window (image) per call, median and p95 over ``--latency-calls`` calls. Throughput: batches of
  256 windows (32 images), best-of and median over ``--rounds`` rounds; the runtimes take turns inside each
  round, so every ratio compares runs under the same machine load (the load average is recorded).
- FLOPs per window: ``torch.utils.flop_counter.FlopCounterMode`` on the eager model, which counts
  convolutions and matrix products (GRU and attention matmuls included) with a multiply-add as 2 FLOP;
  FFT / STFT and elementwise work are not counted. Share of peak: throughput × FLOPs / 333 GFLOP/s
  (2 cores × 2.6 GHz × 64 FP32 FLOP per cycle: two 512-bit FMA pipes).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, run_measured, write_results  # noqa: E402

PEAK_FLOPS = 2 * 2.6e9 * 64
IMAGE_SIZE = 192  # the steel recipes' image size (NEU and SD-saliency images are 200 × 200)
CWRU = Path(__file__).resolve().parents[2] / "shared" / "data" / "cwru"
# random-weight families: (model name, builder kwargs, kind)
RANDOM_FAMILIES = {
    "multimodal_medium": ("multimodal_medium", {}, "vibration"),
    "multimodal_large": ("multimodal_large", {}, "vibration"),
    "wdcnn": ("wdcnn", {}, "vibration"),
    "band_linear": ("band_linear", {}, "vibration"),
    "envelope_linear": ("envelope_linear", {}, "vibration"),
    "image_classifier+edge": (
        "image_classifier",
        {"backbone": "resnet18", "in_chans": 1, "edge_branch": True},
        "image",
    ),
    "smp_unet_resnet18": ("smp_segmenter", {"arch": "Unet", "encoder": "resnet18", "in_channels": 1}, "segmentation"),
}


def _timed(fn, calls: int) -> np.ndarray:
    out = np.empty(calls)
    for i in range(calls):
        start = time.perf_counter()
        fn()
        out[i] = time.perf_counter() - start
    return out


def flops_per_sample(model: Any, inputs: dict[str, Any]) -> float:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    one = {k: torch.from_numpy(v[:1]) for k, v in inputs.items()}
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(*one.values())
    return float(counter.get_total_flops())


def random_checkpoint(name: str, kwargs: dict[str, Any], kind: str, folder: Path) -> Path:
    """A checkpoint of a random-weight model whose config points at a tiny generated dataset (for parity)."""
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "export"))
    from checkpoints import image_checkpoint, vibration_checkpoint

    if kind == "vibration":
        window = 1024
        ckpt = vibration_checkpoint(folder, {"name": name}, {"window": window, "step": 256}, seconds=2.0)
        state = torch.load(ckpt, weights_only=True)
        state["model_kwargs"] = {"num_classes": 3, "window": window, "sample_rate": 12000, **kwargs}
    else:
        ckpt = image_checkpoint(folder, kind == "image", kind == "segmentation", size=IMAGE_SIZE)
        state = torch.load(ckpt, weights_only=True)
        state["model_kwargs"] = {**state["model_kwargs"], **kwargs}
    import faultcli.models.vision  # noqa: F401
    from faultcli.models import create_model

    net = create_model(name, **state["model_kwargs"])
    state["model"] = net.state_dict()
    torch.save(state, ckpt)
    return ckpt


def measure_family(label: str, ckpt: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from faultcli.export.checkpoint import build_model, load_state
    from faultcli.export.graph import example_inputs, wrap
    from faultcli.export.onnx_runner import OnnxRunner
    from faultcli.export.sidecar import describe
    from faultcli.export.torch_runner import TorchScriptRunner
    from faultcli.services.export import run_export

    state = load_state(ckpt)
    sidecar = describe(state)
    kind = sidecar["preprocessing"]["kind"]
    batch = 256 if kind == "vibration" else 32
    exports = {}
    for tag, fmt, quant in (
        ("onnx_fp32", "onnx", "none"),
        ("onnx_int8", "onnx", "int8"),
        ("ts", "torchscript", "none"),
    ):
        started = time.monotonic()
        try:
            result = run_export(ckpt, fmt, quantize=quant, out=work / f"{label}-{tag}", threads=args.threads)
            exports[tag] = {"folder": result["folder"], "parity": result["parity_detail"]}
        except Exception as err:  # int8 of a graph ORT cannot quantize: recorded, not fatal
            exports[tag] = {"error": str(err).splitlines()[0][:200]}
        exports[tag]["export_seconds"] = round(time.monotonic() - started, 1)
    eager = wrap(build_model(state), sidecar)
    runners: dict[str, Any] = {"pytorch_eager": None}
    if "folder" in exports["ts"]:
        runners["torchscript"] = TorchScriptRunner(Path(exports["ts"]["folder"]) / "model.pt", sidecar)
    for tag in ("onnx_fp32", "onnx_int8"):
        if "folder" in exports[tag]:
            runners[tag.replace("onnx", "onnxruntime")] = OnnxRunner(
                Path(exports[tag]["folder"]) / "model.onnx", args.threads
            )
    torch.manual_seed(0)
    big = {s["name"]: t.numpy() for s, t in zip(sidecar["inputs"], example_inputs(sidecar, batch), strict=True)}
    one = {k: v[:1].copy() for k, v in big.items()}

    def call(name: str, inputs: dict[str, np.ndarray]):
        if name == "pytorch_eager":
            tensors = [torch.from_numpy(v) for v in inputs.values()]
            return lambda: eager(*tensors)
        runner = runners[name]
        return lambda: runner.run(inputs)

    fns_one = {name: call(name, one) for name in runners}
    fns_big = {name: call(name, big) for name in runners}
    for fn in [*fns_one.values(), *fns_big.values()]:
        with torch.inference_mode():
            fn()  # warm-up
    latency = {name: [] for name in runners}
    throughput = {name: [] for name in runners}
    for _ in range(args.rounds):  # runtimes take turns: each round sees the same machine load
        for name in runners:
            with torch.inference_mode():
                latency[name] += list(_timed(fns_one[name], max(1, args.latency_calls // args.rounds)))
                throughput[name] += list(batch / _timed(fns_big[name], 1))
    flops = flops_per_sample(eager, one)
    rows = {}
    for name in runners:
        lat, thr = np.asarray(latency[name]) * 1000, np.asarray(throughput[name])
        rows[name] = {
            "latency_ms_median": round(float(np.median(lat)), 3),
            "latency_ms_p95": round(float(np.percentile(lat, 95)), 3),
            "throughput_median": round(float(np.median(thr)), 1),
            "throughput_best": round(float(thr.max()), 1),
            "peak_share_median": float(np.median(thr)) * flops / PEAK_FLOPS,
        }
    base = rows["pytorch_eager"]["throughput_median"]
    for name in rows:  # per-round ratios against eager, then their median: the same load on both sides
        ratios = np.asarray(throughput[name]) / np.asarray(throughput["pytorch_eager"])
        rows[name]["speedup_vs_eager_median"] = round(float(np.median(ratios)), 3)
    return {
        "family": label,
        "model": state["model_name"],
        "kind": kind,
        "batch": batch,
        "flops_per_sample": flops,
        "eager_throughput": base,
        "runtimes": rows,
        "exports": exports,
        "weights": "trained" if label == "multimodal_small" else "random",
    }


def predict_cwru(export: Path, checkpoint: Path, work: Path, threads: int) -> dict[str, Any]:
    """`faultcli predict` over the bundled CWRU folder with the ONNX export and with the checkpoint."""
    import pandas as pd

    out = {}
    for tag, model in (("onnx", export), ("checkpoint", checkpoint)):
        folder = work / f"predict-{tag}"
        args = [sys.executable, "-m", "faultcli", "predict", "--model", str(model), "--input", str(CWRU)]
        measured = run_measured([*args, "--out", str(folder), "--threads", str(threads)])
        summary = pd.read_json(folder / "summary.json", typ="series")
        out[tag] = {
            "wall_seconds": round(measured["seconds"], 2),
            # the child's own high-water mark: rusage of a child forked from this (large) process counts ours too
            "peak_rss_mib": round(float(summary["peak_rss_mb"]), 1),
            "files": int(summary["files"]),
            "windows": int(summary["units"]),
            "torch_imported": bool(summary["torch_imported"]),
        }
        out[tag]["verdicts"] = pd.read_csv(folder / "per_recording.csv")[["file", "verdict_vote", "verdict_mean"]]
    same = out["onnx"].pop("verdicts").merge(out["checkpoint"].pop("verdicts"), on="file", suffixes=("_o", "_c"))
    out["same_verdicts"] = bool(
        (same["verdict_vote_o"] == same["verdict_vote_c"]).all()
        and (same["verdict_mean_o"] == same["verdict_mean_c"]).all()
    )
    return out


def table(results: dict[str, Any]) -> str:
    lines = [
        "# Inference speed (CPU, side by side in one process)",
        "",
        f"Threads: {results['threads']}; 1-minute load average before / after: {results['load_before']:.1f} / "
        f"{results['load_after']:.1f} on {results['machine']['cpus']} cores (a shared machine: the × eager column "
        "is the median of per-round ratios, each round timing every runtime back to back).",
        "",
        "| family | weights | runtime | latency b=1 median / p95 (ms) | throughput (samples/s, median) "
        "| × eager | share of 333 GFLOP/s | parity (max dp, top-1) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for fam in results["families"]:
        parity = {k: v.get("parity") for k, v in fam["exports"].items()}
        order = ("pytorch_eager", "torchscript", "onnxruntime_fp32", "onnxruntime_int8")
        for name, row in sorted(fam["runtimes"].items(), key=lambda kv: order.index(kv[0])):
            key = {"onnxruntime_fp32": "onnx_fp32", "onnxruntime_int8": "onnx_int8", "torchscript": "ts"}.get(name)
            p = parity.get(key) if key else None
            check = f"{p['max_abs_diff']:.1e}, {p['top1_agreement']:.2%}" if p else ""
            lines.append(
                f"| {fam['family']} ({fam['flops_per_sample'] / 1e6:.3g} MFLOP) | {fam['weights']} | {name} | "
                f"{row['latency_ms_median']:.2f} / {row['latency_ms_p95']:.2f} | {row['throughput_median']:.0f} | "
                f"{row['speedup_vs_eager_median']:.2f} | {row['peak_share_median']:.1%} | {check} |"
            )
    pred = results.get("predict_cwru")
    if pred:
        lines += [
            "",
            "`faultcli predict` over the bundled CWRU folder (37 recordings), whole process:",
            "",
            "| model | seconds | peak RSS (MiB) | windows | torch imported |",
            "|---|---|---|---|---|",
        ]
        for tag in ("onnx", "checkpoint"):
            r = pred[tag]
            lines.append(
                f"| {tag} | {r['wall_seconds']} | {r['peak_rss_mib']} | {r['windows']} | {r['torch_imported']} |"
            )
        lines.append(
            f"\nSame per-recording verdicts (vote and mean), ONNX export vs checkpoint: {pred['same_verdicts']}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True, help="trained multimodal_small run or best.pt")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--latency-calls", type=int, default=70)
    parser.add_argument("--families", nargs="*", default=list(RANDOM_FAMILIES), help="random-weight families")
    parser.add_argument("--name", default="inference", help="result file name under benchmarks/results/")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    results: dict[str, Any] = {"machine": machine(), "threads": args.threads, "load_before": os.getloadavg()[0]}
    results["families"] = []
    with tempfile.TemporaryDirectory(prefix="faultcli-inference-") as tmp:
        work = Path(tmp)
        small = measure_family("multimodal_small", args.checkpoint, work, args)
        results["families"].append(small)
        _save(args.name, results)
        for label in args.families:
            name, kwargs, kind = RANDOM_FAMILIES[label]
            ckpt = random_checkpoint(name, kwargs, kind, work / f"data-{label}")
            results["families"].append(measure_family(label, ckpt, work, args))
            _save(args.name, results)  # partial results survive an interrupted run
        if CWRU.is_dir() and "folder" in small["exports"]["onnx_fp32"]:
            onnx_small = Path(small["exports"]["onnx_fp32"]["folder"])
            results["predict_cwru"] = predict_cwru(onnx_small, args.checkpoint, work, args.threads)
    results["load_after"] = os.getloadavg()[0]
    _save(args.name, results, final=True)


def _save(name: str, results: dict[str, Any], final: bool = False) -> None:
    """Results so far, without the temporary export folders; ``complete`` marks a finished run."""
    clean = {**results, "complete": final, "load_after": results.get("load_after", os.getloadavg()[0])}
    clean["families"] = [
        {**fam, "exports": {k: {f: v for f, v in e.items() if f != "folder"} for k, e in fam["exports"].items()}}
        for fam in results["families"]
    ]
    write_results(name, clean, table(clean))


if __name__ == "__main__":
    main()
