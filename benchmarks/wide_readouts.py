"""Each read-out of wide-and-deep multimodal runs (``vibration.wide_bands``) on its load-pair test loads.

The deep head, the wide (band-share linear) head and their average, scored separately on every target
load of the stored load-pair runs of ``cwru_protocols.py --runs DIR``: which read-out transfers.

Run: ``python benchmarks/wide_readouts.py runs/bench/multimodal_small+fe-bands-window-norm-eq12-wide128
[more such folders] [--seeds 0,1,2] [--results wide_readouts]``; writes ``benchmarks/results/<results>.json``
and a table.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
import torch
from _common import machine, recording_load, write_results

from faultcli.models.layers import fuse_conv_bn
from faultcli.progress import NullReporter
from faultcli.services.common import load_trained_model
from faultcli.services.evaluate import checkpoint_config
from faultcli.tasks import get_task

READOUTS = ("deep", "wide", "average")


def readout_predictions(run: Path, batch_size: int = 512) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Predicted classes of each read-out on ``run``'s test split, the true classes and each window's load."""
    state, cfg = checkpoint_config(run, None, [])
    data = get_task(cfg.task).build_data(cfg, NullReporter(), state.get("data_info"))
    rows = data.rows("test")
    model = fuse_conv_bn(load_trained_model(state, torch.device("cpu")))
    if getattr(model, "wide", None) is None:
        raise SystemExit(f"{run} has no wide read-out (vibration.wide_bands = 0)")
    preds: dict[str, list] = {name: [] for name in READOUTS}
    labels = []
    with torch.inference_mode():
        for start in range(0, len(rows), batch_size):
            batch = data.fetch(rows[start : start + batch_size])
            feats = model.forward_features(batch["x"], **batch.get("extra", {}))
            parts = model.head_logits(feats)
            for name, logits in zip(READOUTS, [*parts, model.combine_readouts(parts)], strict=True):
                preds[name].append(logits.argmax(1))
            labels.append(batch["y"])
    loads = recording_load(data.describe(rows)["file"]).to_numpy()
    return {k: torch.cat(v).numpy() for k, v in preds.items()}, torch.cat(labels).numpy(), loads


def score(root: Path, seed: int) -> dict[str, dict]:
    """Per read-out: accuracy on each load pair ``s->t`` of one seed, their mean and worst pair."""
    pairs: dict[str, dict[str, float]] = {name: {} for name in READOUTS}
    for source_dir in sorted(root.glob("load-pairs-from*")):
        source = re.search(r"from(\d)$", source_dir.name).group(1)
        preds, y, loads = readout_predictions(source_dir / f"seed{seed}")
        for name in READOUTS:
            for load in sorted(set(loads)):
                on_load = loads == load
                pairs[name][f"{source}->{load}"] = float((preds[name][on_load] == y[on_load]).mean())
    return {
        name: {"pairs": p, "mean": float(np.mean(list(p.values()))), "worst": min(p.values())}
        for name, p in pairs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", type=Path, nargs="+", help="model+variant folders of cwru_protocols.py --runs")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds stored under the root")
    parser.add_argument("--results", default="wide_readouts", help="name of the result files")
    args = parser.parse_args()
    torch.set_num_threads(1)
    runs = {}
    lines = ["| runs | seed | read-out | load pairs: mean | worst pair |", "|---|---|---|---|---|"]
    for root in args.roots:
        for seed in map(int, args.seeds.split(",")):
            runs[f"{root.name}/seed{seed}"] = scored = score(root, seed)
            for name, figures in scored.items():
                lines.append(f"| {root.name} | {seed} | {name} | {figures['mean']:.4f} | {figures['worst']:.4f} |")
    write_results(args.results, {"machine": machine(), "runs": runs}, "\n".join(lines))


if __name__ == "__main__":
    main()
