#!/usr/bin/env bash
# Branch and fusion ablation, as a user would script it: every single branch, every pair, the full
# model, and each fusion, trained on the same recipe and split; one table at the end.
#
#   bash scripts/ablate_branches.sh [recipe] [extra --set overrides...]
#   bash scripts/ablate_branches.sh recipes/cwru-cross-load.toml --set train.epochs=10
set -euo pipefail
recipe=${1:-recipes/cwru-cross-load.toml}
shift || true
out=${ABLATION_OUT:-runs/ablation/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"

run() {  # run <label> <overrides...>
  local label=$1; shift
  faultcli finetune --recipe "$recipe" --out "$out/$label" "$@" "${extra[@]}" >"$out/$label.log" 2>&1 \
    || { echo "$label failed: see $out/$label.log" >&2; return 1; }
  echo "done: $label"
}

extra=("$@")
for branches in '["time"]' '["fft"]' '["tf"]' '["time","fft"]' '["time","tf"]' '["fft","tf"]' '["time","fft","tf"]'; do
  label="branches-$(echo "$branches" | tr -d '[]" ' | tr ',' '+')"
  run "$label" --set "model.branches=$branches"
done
for fusion in hierarchical weighted concat; do
  run "fusion-$fusion" --set "model.fusion=$fusion"
done
python scripts/collect_runs.py "$out" > "$out/table.md"
cat "$out/table.md"
