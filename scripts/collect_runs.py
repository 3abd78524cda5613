"""Collect the summary.json of every run folder under a directory into one markdown table.

python scripts/collect_runs.py runs/ablation/<stamp> [--json table.json]
"""

import argparse
import json
from pathlib import Path

from faultcli.runs import atomic_write_json

KEYS = ("test_accuracy", "test_macro_f1", "best_epoch", "train_seconds", "params")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", help="folder whose sub-folders are run folders")
    parser.add_argument("--json", help="also write the rows, every summary field, to this JSON file")
    args = parser.parse_args()
    summaries = {p.parent.name: json.loads(p.read_text()) for p in sorted(Path(args.root).glob("*/summary.json"))}
    print("| run | " + " | ".join(KEYS) + " |")
    print("|---" * (len(KEYS) + 1) + "|")
    for name, data in summaries.items():
        cells = [f"{v:.4f}" if isinstance(v, float) else str(v) for v in (data.get(k, "") for k in KEYS)]
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.json:
        atomic_write_json(Path(args.json), summaries)


if __name__ == "__main__":
    main()
