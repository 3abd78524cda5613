"""Peak memory of `faultcli prep` and `faultcli finetune` as a synthetic vibration dataset grows 10×.

A folder of float32 .npy recordings (4 classes, one noisy tone each) is made at a small size and at
``--scale`` times that, then prepared and trained on (WDCNN, one thread, capped batches) in child processes
sampled every 50 ms from /proc: peak RSS (VmHWM / ru_maxrss: anonymous memory plus the pages of mapped
files that were touched) and peak anonymous memory (RssAnon: what the process itself holds). A third child
reads every window of the prepared set once through a memory map and through ``os.pread`` (what the
loader does), to show which of the two keeps the resident size bounded.

python benchmarks/memory.py                    # ~0.4 GB and ~4 GB of signal; writes results/memory.{json,md}
python benchmarks/memory.py --samples 2000000  # a quick look (~80 MB and ~0.8 GB)
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
from _common import ROOT, machine, write_results  # noqa: E402

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
    reads = {}
    for how in ("mmap", "pread"):
        reads[how] = measure([sys.executable, "-c", READ_WINDOWS, str(folder), how], ROOT)
        reads[how].update(json.loads(reads[how].pop("output").strip().splitlines()[-1]))
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


def table(results: dict, a: argparse.Namespace) -> str:
    small, large = results["sizes"]["small"], results["sizes"]["large"]
    rows = [
        "| size | signal GB | windows | step | peak RSS MiB | peak anon MiB | peak file MiB | RSS × small | "
        "anon × small | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    steps = [("prep", "prep"), ("train", "finetune")]
    steps += [(f"read_every_window.{h}", f"read every window ({h})") for h in ("mmap", "pread")]
    for key, label in steps:
        for name, size in (("small", small), ("large", large)):
            m = size
            for part in key.split("."):
                m = m[part]
            ref = small
            for part in key.split("."):
                ref = ref[part]
            rows.append(
                f"| {name} | {size['signals_gb']} | {size['windows']} | {label} | {m['peak_rss_mib']} | "
                f"{m['peak_anon_mib']} | {m['peak_file_mib']} | {m['peak_rss_mib'] / ref['peak_rss_mib']:.2f} | "
                f"{m['peak_anon_mib'] / ref['peak_anon_mib']:.2f} | {m['seconds']} |"
            )
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=10, help="recordings of the small set")
    parser.add_argument("--scale", type=int, default=10, help="the large set has this many times the files")
    parser.add_argument("--samples", type=int, default=10_000_000, help="samples per recording")
    parser.add_argument("--window", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-batches", type=int, default=50)
    parser.add_argument("--work", type=Path, default=None, help="where the sets are made (deleted afterwards)")
    a = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="faultcli-memory-", dir=a.work))
    try:
        sizes = {
            "small": one_size("small", work, a.files, a),
            "large": one_size("large", work, a.files * a.scale, a),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    payload = {"machine": machine(), "settings": {k: str(v) for k, v in vars(a).items()}, "sizes": sizes}
    large, small = sizes["large"], sizes["small"]
    payload["ratios"] = {
        step: {
            "peak_rss": round(large[step]["peak_rss_mib"] / small[step]["peak_rss_mib"], 3),
            "peak_anon": round(large[step]["peak_anon_mib"] / small[step]["peak_anon_mib"], 3),
        }
        for step in ("prep", "train")
    }
    write_results("memory", payload, table(payload, a))


if __name__ == "__main__":
    main()
