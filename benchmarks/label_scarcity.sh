#!/usr/bin/env bash
# Label scarcity on CWRU (10 classes, recording-time split), WDCNN, seed 0: finetuning with 1 % and 10 % of
# the train labels (data.label_fraction, the same stratified subset for both rows), from scratch against
# from NT-Xent pretraining on all train windows without their labels (recipes/pretrain-cwru.toml).
# No setting was chosen for these rows: the recipes are used as shipped. One thread per run.
#
#   bash benchmarks/label_scarcity.sh      # writes benchmarks/results/label-scarcity.{json,md}
set -euo pipefail
out=${SCARCITY_OUT:-runs/bench-scarcity}
mkdir -p "$out"
export OMP_NUM_THREADS=1
faultcli pretrain --recipe recipes/pretrain-cwru.toml --set train.threads=1 --out "$out/pretrain" > "$out/pretrain.log" 2>&1
for f in 0.01 0.1; do
  faultcli finetune --recipe recipes/wdcnn.toml --set data.label_fraction=$f --set train.threads=1 \
    --out "$out/scratch-$f" > "$out/scratch-$f.log" 2>&1
  faultcli finetune --recipe recipes/wdcnn.toml --set data.label_fraction=$f --set train.threads=1 \
    --init "$out/pretrain" --out "$out/pretrained-$f" > "$out/pretrained-$f.log" 2>&1
done
faultcli runs table "$out"/scratch-0.*[0-9] "$out"/pretrained-0.*[0-9] --json benchmarks/results/label-scarcity.json \
  --md benchmarks/results/label-scarcity.md
