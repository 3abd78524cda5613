"""Peak memory of `faultcli prep` and `faultcli finetune` as a synthetic dataset grows 10×: vibration
recordings (``--suite vibration``) or PNG images (``--suite images``).

A folder of float32 .npy recordings (4 classes, one noisy tone each) is made at a small size and at
``--scale`` times that, then prepared and trained on (WDCNN, one thread, capped batches) in child processes
sampled every 50 ms from /proc: peak RSS (VmHWM / ru_maxrss: anonymous memory plus the pages of mapped
files that were touched) and peak anonymous memory (RssAnon: what the process itself holds). A third child
reads every window of the prepared set once through a memory map and through ``os.pread`` (what the
loader does), to show which of the two keeps the resident size bounded.

The image suite does the same with 200×200 colour PNGs (4 classes), prepared at ``--image-size`` with edge
maps and trained with a timm ResNet-18 from random weights; its third child reads every prepared image.
Each suite keeps the other's figures in results/memory.{json,md}.

python benchmarks/memory.py                    # ~0.4 GB and ~4 GB of signal; writes results/memory.{json,md}
python benchmarks/memory.py --samples 2000000  # a quick look (~80 MB and ~0.8 GB)
python benchmarks/memory.py --suite images --work /work/tmp-memory-images   # 2,000 → 20,000 images
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, ROOT, machine, write_results  # noqa: E402

CLASSES = ("ball", "inner", "outer", "normal")
STATUS_KEYS = ("VmRSS", "VmHWM", "RssAnon", "RssFile")

READ_WINDOWS = """
import json, sys, numpy as np
from faultcli.data.vibration import VibrationDataset
ds, how = VibrationDataset.load(sys.argv[1]), sys.argv[2]
offsets = ds.recordings["offset"].to_numpy()
order, total = np.random.default_rng(0).permutation(len(ds.windows)), 0.0
for b in range(0, len(order), 64):
    rows = order[b : b + 64]
    if how == "mmap":
        starts = offsets[ds.windows[rows, 0]] + ds.windows[rows, 1]
        x = np.asarray(ds.signals[starts[:, None] + np.arange(ds.window)])
    else:
        x = ds.signals_for(rows)
    total += float(x[:, 0].sum())
print(json.dumps({"windows": len(order), "checksum": total}))
"""

READ_IMAGES = """
import json, sys, numpy as np
from faultcli.data.images import ImageDataset
ds, how = ImageDataset.load(sys.argv[1]), sys.argv[2]
images = ds.images if how == "mmap" else ds.rows("images")
order, total = np.random.default_rng(0).permutation(len(ds.items)), 0.0
for b in range(0, len(order), 64):
    x = np.asarray(images[order[b : b + 64]])
    total += float(x[:, 0, 0].sum())
print(json.dumps({"images": len(order), "checksum": total}))
"""


def make_dataset(root: Path, files: int, samples: int) -> int:
    """``files`` recordings of ``samples`` float32 samples, classes in turn; returns the bytes written."""
    rng = np.random.default_rng(0)
    t = np.arange(samples, dtype=np.float32) / 12000
    for i in range(files):
        name = CLASSES[i % len(CLASSES)]
        (root / name).mkdir(parents=True, exist_ok=True)
        tone = np.sin(2 * np.pi * (100 + 150 * (i % len(CLASSES))) * t, dtype=np.float32)
        np.save(root / name / f"{name}_{i:04d}.npy", tone + 0.3 * rng.standard_normal(samples, dtype=np.float32))
    return sum(f.stat().st_size for f in root.rglob("*.npy"))


def _status(pid: int) -> dict[str, int]:
    """kB figures of /proc/<pid>/status (empty once the process is gone)."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in STATUS_KEYS:
                out[key] = int(value.split()[0])
    except (FileNotFoundError, ProcessLookupError, ValueError):
        pass
    return out


def measure(args: list[str], cwd: Path) -> dict:
    """Run ``args``; wall seconds, ru_maxrss and the peaks of VmRSS / RssAnon / RssFile sampled every 50 ms."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peaks: dict[str, int] = {}
    timeline: list[list[float]] = []  # [seconds, RssAnon MiB, RssFile MiB] once a second: where the peak falls
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            now = _status(proc.pid)
            for key, value in now.items():
                peaks[key] = max(peaks.get(key, 0), value)
            t = time.perf_counter() - started
            if now and (not timeline or t - timeline[-1][0] >= 1.0):
                timeline.append([round(t, 1), round(now.get("RssAnon", 0) / 1024), round(now.get("RssFile", 0) / 1024)])
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.stderr.write(output)
        raise SystemExit(f"benchmark command failed: {' '.join(args)}")
    mib = {key: round(peaks.get(key, 0) / 1024, 1) for key in STATUS_KEYS}
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),  # = VmHWM at exit, never missed by sampling
        "peak_anon_mib": mib["RssAnon"],
        "peak_file_mib": mib["RssFile"],
        "timeline_s_anon_file_mib": timeline,
        "output": output,
    }


def write_recipe(path: Path, data_root: Path, cache: Path, a: argparse.Namespace) -> Path:
    path.write_text(
        f"""task = "vibration-classification"
seed = 0

[data]
root = "{data_root}"
format = "npy"
label_from = "folder"
sample_rate = 12000
window = {a.window}
step = {a.window}
split = "recording-time"
cache_dir = "{cache}"

[model]
name = "wdcnn"

[train]
epochs = {a.epochs}
batch_size = 64
threads = 1
max_train_batches = {a.max_batches}
""",
        encoding="utf-8",
    )
    return path


def read_everything(script: str, folder: Path) -> dict:
    """Memory of a child that reads the whole prepared set once through a memory map, then with os.pread."""
    reads = {}
    for how in ("mmap", "pread"):
        reads[how] = measure([sys.executable, "-c", script, str(folder), how], ROOT)
        reads[how].update(json.loads(reads[how].pop("output").strip().splitlines()[-1]))
    return reads


def faultcli(command: str, recipe: Path, out: Path) -> dict:
    result = measure([sys.executable, "-m", "faultcli", command, "--recipe", str(recipe), "--out", str(out)], ROOT)
    summary = json.loads((out / "summary.json").read_text())
    result.pop("output")
    return {**result, "summary": {k: v for k, v in summary.items() if not isinstance(v, (dict, list))}}


def one_size(name: str, work: Path, files: int, a: argparse.Namespace) -> dict:
    raw, cache = work / name / "raw", work / name / "cache"
    on_disk = make_dataset(raw, files, a.samples)
    recipe = write_recipe(work / name / "recipe.toml", raw, cache, a)
    prep = faultcli("prep", recipe, work / name / "prep")
    folder = Path(prep["summary"]["dataset"])
    windows = int(np.load(folder / "windows.npy", mmap_mode="r").shape[0])
    train = faultcli("finetune", recipe, work / name / "train")
    reads = read_everything(READ_WINDOWS, folder)
    return {
        "files": files,
        "raw_gb": round(on_disk / 1e9, 3),
        "signals_gb": round((folder / "signals.npy").stat().st_size / 1e9, 3),
        "windows_npy_mb": round((folder / "windows.npy").stat().st_size / 1e6, 1),
        "windows": windows,
        "prep": prep,
        "train": train,
        "read_every_window": reads,
    }


def _rows(results: dict, steps: list[tuple[str, str]], size_cols) -> list[str]:
    """One table row per (step, size): peaks, their ratio to the small set's, seconds."""
    small, large = results["sizes"]["small"], results["sizes"]["large"]
    rows = []
    for key, label in steps:
        for name, size in (("small", small), ("large", large)):
            m, ref = size, small
            for part in key.split("."):
                m, ref = m[part], ref[part]
            rows.append(
                f"| {name} | {' | '.join(str(v) for v in size_cols(size))} | {label} | {m['peak_rss_mib']} | "
                f"{m['peak_anon_mib']} | {m['peak_file_mib']} | {m['peak_rss_mib'] / ref['peak_rss_mib']:.2f} | "
                f"{m['peak_anon_mib'] / ref['peak_anon_mib']:.2f} | {m['seconds']} |"
            )
    return rows


def table(results: dict) -> str:
    a = argparse.Namespace(**{k: int(v) for k, v in results["settings"].items() if v.isdigit()})
    small, large = results["sizes"]["small"], results["sizes"]["large"]
    rows = [
        "| size | signal GB | windows | step | peak RSS MiB | peak anon MiB | peak file MiB | RSS × small | "
        "anon × small | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    steps = [("prep", "prep"), ("train", "finetune")]
    steps += [(f"read_every_window.{h}", f"read every window ({h})") for h in ("mmap", "pread")]
    rows += _rows(results, steps, lambda size: (size["signals_gb"], size["windows"]))
    head = (
        f"Synthetic vibration set ({len(CLASSES)} classes, {a.samples:,} float32 samples per file, "
        f"{small['files']} → {large['files']} files), window {a.window} (no overlap), WDCNN, {a.epochs} epochs of at "
        f"most {a.max_batches} batches of 64, train.threads = 1; whole child process incl. Python start-up. "
        "Peak RSS = ru_maxrss (anonymous + touched pages of mapped files); anon and file = peaks of RssAnon / "
        "RssFile sampled every 50 ms."
    )
    foot = (
        "Peak RSS is the figure the bound is about: it is what the process costs the machine at its worst, and it "
        "counts the pages of a mapped file that were read. Read through a memory map, every window read once "
        "leaves its pages resident (file column of the mmap rows: the whole signal); read with os.pread, as "
        "the loader does, they stay in the page cache, outside the process. Anonymous memory still grows with "
        "the number of windows: the window index (32 bytes a window), the split's rows and shuffles, and the "
        "test predictions (logits and features of every test window); its per-second timeline is in the JSON."
    )
    return head + "\n\n" + "\n".join(rows) + "\n\n" + foot


def vibration_suite(a: argparse.Namespace, work: Path) -> dict:
    sizes = {"small": one_size("small", work, a.files, a), "large": one_size("large", work, a.files * a.scale, a)}
    return {"machine": machine(), "settings": _settings(a, VIBRATION_KEYS), "sizes": sizes}


# ----------------------------------------------------------------------------- images


def make_images(root: Path, count: int, side: int = 200) -> int:
    """``count`` colour PNGs of side × side, classes in turn (a gradient per class plus noise); bytes written."""
    import cv2

    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 1, side, dtype=np.float32)
    for i in range(count):
        c = i % len(CLASSES)
        gradient = np.broadcast_to(ramp[None, :] if c % 2 else ramp[:, None], (side, side)) * (60 + 40 * c)
        image = gradient[..., None] + np.array([40, 60, 80]) + rng.normal(0, 12, (side, side, 3))
        (root / CLASSES[c]).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / CLASSES[c] / f"{CLASSES[c]}_{i:05d}.png"), np.clip(image, 0, 255).astype(np.uint8))
    return sum(f.stat().st_size for f in root.rglob("*.png"))


def write_image_recipe(path: Path, data_root: Path, cache: Path, a: argparse.Namespace) -> Path:
    path.write_text(
        f"""task = "image-classification"
seed = 0

[data]
root = "{data_root}"
label_from = "folder"
image_size = [{a.image_size}, {a.image_size}]
color = "rgb"
edges = true
split = "stratified"
fractions = [0.9, 0.05, 0.05]
cache_dir = "{cache}"

[model]
name = "image_classifier"
pretrained = false

[image]
backbone = "resnet18"

[train]
epochs = {a.epochs}
batch_size = 32
threads = 1
max_train_batches = {a.max_batches}

[eval]
batch_size = {a.eval_batch}
""",
        encoding="utf-8",
    )
    return path


def images_one_size(name: str, work: Path, count: int, a: argparse.Namespace) -> dict:
    raw, cache = work / name / "raw", work / name / "cache"
    on_disk = make_images(raw, count)
    recipe = write_image_recipe(work / name / "recipe.toml", raw, cache, a)
    prep = faultcli("prep", recipe, work / name / "prep")
    folder = Path(prep["summary"]["dataset"])
    train = faultcli("finetune", recipe, work / name / "train")
    reads = read_everything(READ_IMAGES, folder)
    return {
        "images": count,
        "png_gb": round(on_disk / 1e9, 3),
        "images_npy_gb": round((folder / "images.npy").stat().st_size / 1e9, 3),
        "prep": prep,
        "train": train,
        "read_every_image": reads,
    }


def image_table(results: dict) -> str:
    settings = results["settings"]
    small, large = results["sizes"]["small"], results["sizes"]["large"]
    rows = [
        "| size | PNG GB | images.npy GB | step | peak RSS MiB | peak anon MiB | peak file MiB | RSS × small | "
        "anon × small | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    steps = [("prep", "prep"), ("train", "finetune")]
    steps += [(f"read_every_image.{h}", f"read every image ({h})") for h in ("mmap", "pread")]
    rows += _rows(results, steps, lambda size: (size["png_gb"], size["images_npy_gb"]))
    side = settings["image_size"]
    head = (
        f"Synthetic image set ({len(CLASSES)} classes, 200×200 colour PNGs, {small['images']:,} → "
        f"{large['images']:,} images) prepared at {side}×{side} RGB with edge maps (split 90/5/5), ResNet-18 "
        f"(timm, random weights), {settings['epochs']} epochs of at most {settings['max_batches']} batches of 32, "
        f"validation and test in batches of {settings.get('eval_batch', 256)}, train.threads = 1; whole child "
        "process incl. Python start-up. Columns as in the vibration table."
    )
    foot = (
        "Prep appends each image to images.npy as it is decoded and writes edge maps in a second pass over the "
        "written rows; training, validation, test and the mistakes grid read images with os.pread. The mmap rows "
        "read every prepared image through a memory map instead: their file column grows with the set. "
        "Validation and test batches are smaller than both sets' splits, so both compare the same activations."
    )
    return head + "\n\n" + "\n".join(rows) + "\n\n" + foot


def image_suite(a: argparse.Namespace, work: Path) -> dict:
    sizes = {
        "small": images_one_size("small", work, a.images, a),
        "large": images_one_size("large", work, a.images * a.scale, a),
    }
    return {"machine": machine(), "settings": _settings(a, IMAGE_KEYS), "sizes": sizes}


# ----------------------------------------------------------------------------- main

VIBRATION_KEYS = ("files", "scale", "samples", "window", "epochs", "max_batches", "work")
IMAGE_KEYS = ("images", "scale", "image_size", "epochs", "max_batches", "eval_batch", "work")


def _settings(a: argparse.Namespace, keys: tuple[str, ...]) -> dict[str, str]:
    return {k: str(getattr(a, k)) for k in keys}


def _ratios(sizes: dict) -> dict:
    large, small = sizes["large"], sizes["small"]
    return {
        step: {
            "peak_rss": round(large[step]["peak_rss_mib"] / small[step]["peak_rss_mib"], 3),
            "peak_anon": round(large[step]["peak_anon_mib"] / small[step]["peak_anon_mib"], 3),
        }
        for step in ("prep", "train")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", choices=("vibration", "images"), default="vibration")
    parser.add_argument("--files", type=int, default=10, help="recordings of the small vibration set")
    parser.add_argument("--images", type=int, default=2000, help="images of the small image set")
    parser.add_argument("--scale", type=int, default=10, help="the large set has this many times the files")
    parser.add_argument("--samples", type=int, default=10_000_000, help="samples per recording")
    parser.add_argument("--window", type=int, default=1024)
    parser.add_argument("--image-size", type=int, default=96, help="side of the prepared images")
    parser.add_argument(
        "--eval-batch", type=int, default=64, help="image suite: eval.batch_size (below both sets' val / test sizes)"
    )
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-batches", type=int, default=50)
    parser.add_argument("--work", type=Path, default=None, help="where the sets are made (deleted afterwards)")
    a = parser.parse_args()
    if a.work is not None:
        a.work.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="faultcli-memory-", dir=a.work))
    try:
        suite = vibration_suite(a, work) if a.suite == "vibration" else image_suite(a, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    suite["ratios"] = _ratios(suite["sizes"])
    # each suite keeps the other's figures: vibration at the top level (as first published), images under "images"
    stored = RESULTS / "memory.json"
    payload = json.loads(stored.read_text()) if stored.is_file() else {}
    if a.suite == "vibration":
        payload = {**suite, **({"images": payload["images"]} if "images" in payload else {})}
    else:
        payload["images"] = suite
    parts = [table(payload)] if "sizes" in payload else []
    if "images" in payload:
        parts.append("## Images\n\n" + image_table(payload["images"]))
    write_results("memory", payload, "\n\n".join(parts))


if __name__ == "__main__":
    main()
