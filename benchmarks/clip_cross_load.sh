#!/usr/bin/env bash
# Vibration–text alignment across loads on CWRU (loads 0–2 -> 3, 9 fault classes) with
# recipes/clip-cwru-cross-load.toml, seeds 0, 1, 2, one thread each; then one table of the three runs.
#
#   bash benchmarks/clip_cross_load.sh      # writes benchmarks/results/clip-cross-load.{json,md}
set -euo pipefail
out=${CLIP_CROSS_LOAD_OUT:-runs/bench-clip-cross-load}
mkdir -p "$out"
for seed in 0 1 2; do
  faultcli clip train --recipe recipes/clip-cwru-cross-load.toml --set seed=$seed --set train.threads=1 \
    --out "$out/seed$seed" > "$out/seed$seed.log" 2>&1
done
faultcli runs table "$out"/seed0 "$out"/seed1 "$out"/seed2 --json benchmarks/results/clip-cross-load.json \
  --md benchmarks/results/clip-cross-load.md
