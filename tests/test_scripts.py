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
if args[0] != "finetune" and args[:2] != ["clip", "train"]:
    sys.exit(subprocess.call([{sys.executable!r}, "-m", "faultcli", *args]))
out = Path(args[args.index("--out") + 1])
sets = [args[i + 1] for i, a in enumerate(args) if a == "--set"]
out.mkdir(parents=True)
section = "clip" if args[0] == "clip" else "vibration"
lines = [f"[{{section}}]", *(toml_line(s) for s in sets if s.startswith(section + "."))]
(out / "config.toml").write_text("\\n".join(lines) + "\\n")
(out / "summary.json").write_text(json.dumps({{"test_accuracy": 0.5 + len(out.name) / 100, "train_seconds": 1.0}}))
"""


def run_script(tmp_path, script: str, recipe: str) -> subprocess.CompletedProcess:
    """``bash scripts/<script> <recipe> --set train.epochs=1`` with the stub standing in for training."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "faultcli").write_text(STUB)
    (bin_dir / "faultcli").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "ABLATION_OUT": str(tmp_path / "abl")}
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / script), recipe, "--set", "train.epochs=1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ablate_branches_trains_every_variant_and_tabulates_them(tmp_path):
    done = run_script(tmp_path, "ablate_branches.sh", "recipes/cwru-cross-load.toml")
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


def test_ablate_clip_runs_text_encoder_template_and_adapter_variants(tmp_path):
    done = run_script(tmp_path, "ablate_clip.sh", "recipes/clip-seu.toml")
    assert done.returncode == 0, done.stderr
    runs = sorted(p.name for p in (tmp_path / "abl").iterdir() if p.is_dir())
    assert len(runs) == 12 and "lstm-structured-adapter" in runs and "minilm-plain" in runs
    table = (tmp_path / "abl" / "table.md").read_text().splitlines()
    assert "clip.mode" in table[0] and "clip.templates" in table[0] and "clip.text_model" in table[0]
    assert len(table) == 2 + 12
