#!/usr/bin/env bash
# Branch and fusion ablation, as a user would script it: every single branch, every pair, the full
# model (hierarchical fusion) and each simpler fusion, trained on the same recipe and split; one table
# at the end (`faultcli runs table`: table.md, table.csv, and table.json with every run's summary).
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
  run "$label" --set "vibration.branches=$branches"
done
# the full model above is the hierarchical-fusion row (the recipe's default); the simpler fusions follow
for fusion in weighted concat; do
  run "fusion-$fusion" --set "vibration.fusion=$fusion"
done
faultcli runs table "$out" --json "$out/table.json" --csv "$out/table.csv" --md "$out/table.md"
