"""Segmentation architectures × encoders on SD-saliency-900, one table: Dice / IoU on the images with the
defect, the class-agnostic defect Dice, detection, the saliency measures of the literature, the
all-images Dice (Kaggle convention) last, then parameters and speed.

    python benchmarks/segmentation.py                                  # the default pairs (hours on 2 cores)
    python benchmarks/segmentation.py --pairs PAN:efficientnet-b3,Unet:resnet34 --set train.epochs=20
    python benchmarks/segmentation.py --quick                          # minutes: checks the whole pipeline
    python benchmarks/segmentation.py --from-runs runs/segment/<run>   # add a finished run (speed re-measured)

Each pair is trained as a user would: ``faultcli segment train --recipe recipes/segment-pan.toml
--set segmentation.arch=<arch> --set segmentation.encoder=<encoder>`` on the same split (the recipe's data section and
seed). Speed: milliseconds per 200 × 200 image through the trained model at batch 1 and batch 16
(best of a few timed passes, --threads CPU threads, default 1). Results merge into
benchmarks/results/segmentation.json (``--quick``: segmentation_quick.json, so a smoke run never mixes
with real figures) and the Markdown table is rebuilt from every stored entry.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, ROOT, machine, run_faultcli, write_results  # noqa: E402

sys.path.insert(0, str(ROOT))  # faultcli importable from a checkout, installed or not

RECIPE = ROOT / "recipes" / "segment-pan.toml"
PAIRS = (
    "PAN:efficientnet-b3",
    "Unet:efficientnet-b3",
    "FPN:efficientnet-b3",
    "UnetPlusPlus:resnet34",
    "DeepLabV3Plus:resnet34",
    "Unet:resnet34",
)
QUICK_PAIRS = ("PAN:tu-mobilenetv3_small_050", "Unet:tu-mobilenetv3_small_050")
# a few batches at a small size: every stage runs (train, tune, test report), nothing is learnt
QUICK_SET = ("train.epochs=1", "train.max_train_batches=2", "data.image_size=[128, 128]", "train.threads=1")


def speed_ms(checkpoint: Path, batch: int, repeat: int, threads: int) -> float:
    """Best-of-``repeat`` milliseconds per 200 × 200 image at ``batch`` through a trained checkpoint."""
    import torch

    from faultcli.engine.checkpoints import load_checkpoint
    from faultcli.services.common import load_trained_model

    torch.set_num_threads(threads)
    state = load_checkpoint(checkpoint)
    model = load_trained_model(state, torch.device("cpu"))
    x = torch.randn(batch, int(state["data_info"]["channels"]), 200, 200)
    times = []
    with torch.no_grad():
        model(x)  # warm-up
        for _ in range(repeat):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    return 1000 * min(times) / batch


def train_pair(arch: str, encoder: str, overrides: list[str], out: Path) -> dict:
    """Train one pair in a child process (``out`` becomes its run folder); its wall time and peak memory."""
    r = run_faultcli(
        ["segment", "train"], RECIPE, out, [f"segmentation.arch={arch}", f"segmentation.encoder={encoder}", *overrides]
    )
    return {"wall_seconds": r["wall_seconds"], "peak_rss_mib": r["peak_rss_mib"], "overrides": overrides}


# summary keys a table entry keeps: the honest figures first (docs/segmentation-metrics.md)
FIGURE_KEYS = (
    "test_dice_pos",
    "test_iou_pos",
    "test_dice_pos_class_mean",
    "test_defect_dice",
    "test_defect_iou",
    "test_detect_precision",
    "test_detect_recall",
    "test_weighted_f",
    "test_s_measure",
    "test_e_measure_mean",
    "test_e_measure_adaptive",
    "test_mae",
    "test_dice_all_images",
    "test_iou_all_images",
    "test_dice",
    "test_iou",
)
# (header, key, format) of the table's figure columns, in reading order
COLUMNS = (
    ("Dice, images with the class", "test_dice_pos", "{:.4f}"),
    ("IoU, images with the class", "test_iou_pos", "{:.4f}"),
    ("defect Dice", "test_defect_dice", "{:.4f}"),
    ("detect recall", "test_detect_recall", "{:.3f}"),
    ("weighted F", "test_weighted_f", "{:.4f}"),
    ("S", "test_s_measure", "{:.4f}"),
    ("mean E", "test_e_measure_mean", "{:.4f}"),
    ("MAE", "test_mae", "{:.4f}"),
    ("Dice, all images (Kaggle)", "test_dice", "{:.4f}"),
)


def entry_from_run(run: Path, repeat: int, threads: int) -> dict:
    """A table entry from a finished ``segment train`` run folder: its summary, and the speed of its best.pt."""
    summary = json.loads((run / "summary.json").read_text())
    entry = {k: summary[k] for k in ("arch", "encoder", "params", "epochs_run", "train_seconds")}
    entry.update({k: summary.get(k) for k in (*FIGURE_KEYS, "epoch_seconds", "image_size", "thresholds")})
    entry["train_threads"] = tomllib.loads((run / "config.toml").read_text())["train"]["threads"]  # 0 = all
    best = run / "checkpoints" / "best.pt"
    entry.update(ms_batch1=speed_ms(best, 1, repeat, threads), ms_batch16=speed_ms(best, 16, repeat, threads))
    entry.update(speed_threads=threads, speed_repeat=repeat)
    return entry


def _cell(entry: dict, key: str, fmt: str) -> str:
    value = entry.get(key)
    return "—" if value is None else fmt.format(value)


def table(results: dict) -> str:
    lines = [
        "| architecture | encoder | "
        + " | ".join(header for header, _, _ in COLUMNS)
        + " | params (M) | ms/img b1 | ms/img b16 | epochs | train min (threads) |",
        "|---|---|" + "---|" * (len(COLUMNS) + 5),
    ]
    runs = results.get("runs", {})
    for key in sorted(runs):
        r = runs[key]
        lines.append(
            f"| {r['arch']} | {r['encoder']} | "
            + " | ".join(_cell(r, k, fmt) for _, k, fmt in COLUMNS)
            + f" | {r['params'] / 1e6:.2f} | {r['ms_batch1']:.1f} | {r['ms_batch16']:.1f} | {r['epochs_run']} | "
            f"{r['train_seconds'] / 60:.1f} ({r.get('train_threads') or 'all'}) |"
        )
    m = results.get("machine", {})
    overrides = sorted({o for r in runs.values() for o in r.get("overrides", [])})
    threads = sorted({str(r.get("speed_threads", "?")) for r in runs.values()})
    passes = sorted({str(r.get("speed_repeat", 5)) for r in runs.values()})  # 5 before it was recorded
    lines += [
        "",
        "Recipe overrides: " + (", ".join(f"`{o}`" for o in overrides) or "none") + "; speed (ms per "
        f"200 × 200 image, best of {'/'.join(passes)} passes) with {'/'.join(threads)} CPU thread(s).",
        "",
        "SD-saliency-900, test split of recipes/segment-pan.toml, masks after per-class threshold / min-area "
        "tuning on val. Dice / IoU over the images that contain the class; defect Dice: classes ignored, over "
        "images with a defect; detection recall at image level; weighted F (Margolin et al. 2014), S-measure "
        "(Fan et al. 2017), mean E-measure (Fan et al. 2018) and MAE of the highest class probability per "
        "pixel against the union of the masks; last, the Dice over all images × classes, where each empty "
        "channel predicted empty counts 1 (docs/segmentation-metrics.md). "
        f"Machine: {m.get('cpus')} CPUs, torch {m.get('torch')}, {m.get('date')}.",
    ]
    if any(r.get("test_weighted_f") is None for r in runs.values()):
        lines += ["", "—: the row was measured before the figure existed; train the pair again to fill it."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", default=None, help="comma-separated arch:encoder pairs")
    parser.add_argument("--set", dest="extra", action="append", default=[], help="extra recipe override")
    parser.add_argument("--quick", action="store_true", help="tiny encoders, 2 batches: a pipeline check")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for the speed measurement")
    parser.add_argument("--keep", type=Path, default=None, help="keep the run folders under this folder")
    parser.add_argument(
        "--from-runs", nargs="+", type=Path, default=[], help="add finished segment run folders (no training)"
    )
    args = parser.parse_args()
    pairs = args.pairs.split(",") if args.pairs else list(QUICK_PAIRS if args.quick else PAIRS)
    overrides = [*(QUICK_SET if args.quick else ()), *args.extra]
    name = "segmentation_quick" if args.quick else "segmentation"
    path = RESULTS / f"{name}.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results.setdefault("runs", {})
    repeat = 2 if args.quick else 5

    def record(entry: dict) -> None:
        print(
            f"{entry['arch']} + {entry['encoder']}: Dice on images with the class {entry['test_dice_pos']:.4f}, "
            f"defect Dice {entry['test_defect_dice']:.4f}, weighted F {entry['test_weighted_f']:.4f}, "
            f"Dice over all images {entry['test_dice']:.4f}; {entry['ms_batch1']:.1f} / "
            f"{entry['ms_batch16']:.1f} ms per image ({entry['train_seconds']:.0f} s training)",
            flush=True,
        )
        key = f"{entry['arch']}/{entry['encoder']}"
        results["runs"][key] = {**results["runs"].get(key, {}), **entry}  # --from-runs keeps wall time etc.
        results["machine"] = machine()
        write_results(name, results, table(results))

    for run in args.from_runs:  # already trained (e.g. kept with --keep): summary + speed only
        record(entry_from_run(run, repeat, args.threads))
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        for pair in [] if args.from_runs else pairs:
            arch, encoder = pair.split(":", 1)
            out = base / f"{arch}-{encoder}-{time.strftime('%Y%m%d-%H%M%S')}"
            measured = train_pair(arch, encoder, overrides, out)
            record({**entry_from_run(out, repeat, args.threads), **measured})


if __name__ == "__main__":
    main()
