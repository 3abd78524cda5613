"""Micro-benchmark of the signal transforms and augmentations on one CPU batch.

Run: ``python benchmarks/transforms.py [--batch 64] [--window 1024] [--repeat 5] [--threads 1]``; writes
``benchmarks/results/transforms.json`` and prints a table. The pywt row is the per-sample reference the
torch CWT replaces.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pywt
import torch

from faultcli.runs import atomic_write_json
from faultcli.signal.augment import SignalAugment, augment_batch, mixup
from faultcli.signal.transforms import (
    cwt_scales,
    cwt_scalogram,
    envelope_spectrum,
    fft_logmag,
    order_spectrum,
    stft_spectrogram,
)
from faultcli.vision.augment import augment_images

RESULTS = Path(__file__).parent / "results" / "transforms.json"


def best_ms(fn: Callable[[], object], repeat: int) -> float:
    """Best of ``repeat`` timed calls after one warm-up, in milliseconds."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--window", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: stable on a shared box)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    fs, b, length = 12000, args.batch, args.window
    x = torch.randn(b, 1, length, generator=torch.Generator().manual_seed(0))
    rpm = torch.full((b,), 1797.0)
    scales = cwt_scales(64, length)
    images = torch.rand(b // 2, 3, 128, 128)
    masks = (images[:, :1] > 0.5).float()
    strong = SignalAugment(noise_std=0.1, shift=0.2, scale=0.2, warp=0.1, mask=0.2, impulses=3, prob=0.5)
    g = torch.Generator().manual_seed(0)
    cases: dict[str, Callable[[], object]] = {
        "fft_logmag": lambda: fft_logmag(x, 256),
        "stft_spectrogram (64x128)": lambda: stft_spectrogram(x, 128, out_size=(64, 128)),
        "cwt_scalogram torch (64 scales, 64x128)": lambda: cwt_scalogram(x, scales=scales, out_size=(64, 128)),
        "cwt pywt reference (64 scales)": lambda: pywt.cwt(x[:, 0].numpy(), scales, "morl", axis=-1),
        "envelope_spectrum": lambda: envelope_spectrum(x, fs, max_freq=1000.0),
        "order_spectrum (envelope)": lambda: order_spectrum(x, rpm, fs, kind="envelope"),
        "augment_batch (all on, p=0.5)": lambda: augment_batch(x, strong, g),
        "mixup": lambda: mixup(x, torch.eye(4)[torch.arange(b) % 4], 0.4, g),
        f"augment_images ({b // 2}x3x128x128 + mask)": lambda: augment_images(
            images, masks, flip=True, rotate=15.0, brightness=0.2, resized_crop=0.6, generator=g
        ),
    }
    rows = {name: round(best_ms(fn, args.repeat), 3) for name, fn in cases.items()}
    atomic_write_json(
        RESULTS,
        {
            "batch": b,
            "window": length,
            "repeat": args.repeat,
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "pywt": pywt.__version__,
            "numpy": np.__version__,
            "machine": platform.processor() or platform.machine(),
            "ms_per_batch": rows,
        },
    )
    width = max(map(len, rows))
    print(f"{'transform':<{width}}  ms / batch of {b}×{length}")
    for name, ms in rows.items():
        print(f"{name:<{width}}  {ms:10.2f}")


if __name__ == "__main__":
    main()
