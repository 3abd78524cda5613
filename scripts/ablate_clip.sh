#!/usr/bin/env bash
# Vibration–text ablation, as a user would script it: text encoder (the frozen MiniLM, an LSTM trained from
# scratch) × prompt template (a-bearing, plain, structured) × adapter (off: the align run; on: the adapter
# step trained from it). One table at the end (`faultcli runs table`: table.md, table.csv, table.json with
# accuracy, macro-F1, trainable parameters and seconds of every run).
#
#   bash scripts/ablate_clip.sh [recipe] [extra --set overrides...]
#   bash scripts/ablate_clip.sh recipes/clip-seu.toml --set train.epochs=10
set -euo pipefail
recipe=${1:-recipes/clip-seu.toml}
shift || true
out=${ABLATION_OUT:-runs/ablation-clip/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
extra=("$@")

run() {  # run <label> <overrides...>
  local label=$1; shift
  faultcli clip train --recipe "$recipe" --out "$out/$label" "$@" "${extra[@]}" >"$out/$label.log" 2>&1 \
    || { echo "$label failed: see $out/$label.log" >&2; return 1; }
  echo "done: $label"
}

for text in minilm lstm; do
  model=$([ "$text" = lstm ] && echo lstm || echo "")
  for template in a-bearing plain structured; do
    label="$text-$template"
    run "$label" --set "clip.text_model=\"$model\"" --set "clip.templates=[\"$template\"]"
    run "$label-adapter" --set "clip.text_model=\"$model\"" --set "clip.templates=[\"$template\"]" \
      --set clip.mode=adapter --set "train.init=\"$out/$label\""
  done
done
faultcli runs table "$out" --json "$out/table.json" --csv "$out/table.csv" --md "$out/table.md"
