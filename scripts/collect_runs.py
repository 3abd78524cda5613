"""Collect the summary.json of every run folder under a directory into one markdown table.

python scripts/collect_runs.py runs/ablation/<stamp>
"""

import json
import sys
from pathlib import Path

KEYS = ("test_accuracy", "test_macro_f1", "best_epoch", "train_seconds", "params")


def main(root: str) -> None:
    rows = []
    for summary in sorted(Path(root).glob("*/summary.json")):
        data = json.loads(summary.read_text())
        rows.append([summary.parent.name] + [data.get(k, "") for k in KEYS])
    print("| run | " + " | ".join(KEYS) + " |")
    print("|---" * (len(KEYS) + 1) + "|")
    for row in rows:
        cells = [f"{v:.4f}" if isinstance(v, float) else str(v) for v in row]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
