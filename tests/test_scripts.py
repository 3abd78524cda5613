"""The user-level scripts in scripts/: the branch ablation loop and the table it ends with."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Stands in for `faultcli finetune` (writes a run folder as a finished run would, in no time) and hands
# every other command to the real CLI.
STUB = f"""#!{sys.executable}
import json, subprocess, sys, tomllib
from pathlib import Path


def toml_line(setting):
    key, value = setting.split(".", 1)[1].split("=", 1)
    try:
        tomllib.loads(f"v = {{value}}")
    except tomllib.TOMLDecodeError:
        value = json.dumps(value)  # a bare word, as --set takes it
    return f"{{key}} = {{value}}"


args = sys.argv[1:]
if args[0] != "finetune":
    sys.exit(subprocess.call([{sys.executable!r}, "-m", "faultcli", *args]))
out = Path(args[args.index("--out") + 1])
sets = [args[i + 1] for i, a in enumerate(args) if a == "--set"]
out.mkdir(parents=True)
lines = ["[vibration]", *(toml_line(s) for s in sets if s.startswith("vibration."))]
(out / "config.toml").write_text("\\n".join(lines) + "\\n")
(out / "summary.json").write_text(json.dumps({{"test_accuracy": 0.5 + len(out.name) / 100, "train_seconds": 1.0}}))
"""


def test_ablate_branches_trains_every_variant_and_tabulates_them(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "faultcli").write_text(STUB)
    (bin_dir / "faultcli").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "ABLATION_OUT": str(tmp_path / "abl")}
    done = subprocess.run(
        [
            "bash",
            str(ROOT / "scripts" / "ablate_branches.sh"),
            "recipes/cwru-cross-load.toml",
            "--set",
            "train.epochs=1",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    runs = sorted(p.name for p in (tmp_path / "abl").iterdir() if p.is_dir())
    assert len(runs) == 9 and "branches-time+fft+tf" in runs and "fusion-concat" in runs
    table = (tmp_path / "abl" / "table.md").read_text().splitlines()
    assert table[0].startswith("| run | test_accuracy | train_seconds |")
    assert "vibration.branches" in table[0] and "vibration.fusion" in table[0]
    assert len(table) == 2 + 9
    data = json.loads((tmp_path / "abl" / "table.json").read_text())
    assert {r["run"] for r in data["runs"]} == set(runs)
    assert (tmp_path / "abl" / "table.csv").is_file()
    assert "| fusion-weighted |" in done.stdout
