#!/usr/bin/env bash
# Issue 24, item 3: does the official baseline's fmnist twin move away from the pretrained full
# network it starts from? Trains the baseline twin (seed 0) with optimizer.lr_scale=K at SIZE x SIZE
# pixels on the new benchmark's arch list (the 30 gt_arch30 archs + 70 of the 45k list at MACs
# quantiles), scores the pretrained network as it is on the same archs, and prints their agreement:
# the rule asks for Kendall < 0.95. At another SIZE than the twins' 16 the whole chain, pretrained
# network included, runs at that input (chain --set-all, under runs/twin_rule/at<SIZE>).
# Resumes after a kill; everything under runs/twin_rule/ (not committed).
#   K=1 bash benchmarks/pilot-r48-size/twin_rule.sh          # 16x16 (measured 2026-12-07: Kendall 0.464)
#   SIZE=32 K=1 bash benchmarks/pilot-r48-size/twin_rule.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
K=${K:-1}
SIZE=${SIZE:-16}
OUT=runs/twin_rule
PRETRAINED=runs/cvpr22_fmnist/pretrain_largest/checkpoint.pdparams
export OMP_NUM_THREADS=1
source tools/bench_setup.sh  # installs what is needed; PYTHON: the interpreter it went into
input=()
if [ "$SIZE" != 16 ]; then
  OUT=runs/twin_rule/at$SIZE
  input=(--set-all "data.image_size=$SIZE" --shared-root "$OUT")
  PRETRAINED=$OUT/$PRETRAINED
fi
mkdir -p "$OUT"
"$PYTHON" -m paddle_supernet sample --space cvpr22_resnet48 --from ../shared/data/cvpr22/CVPR_2022_NAS_Track1_test.json \
    --keep ../shared/data/cvpr22/gt_arch30.json --n 70 --spread macs --small-input --width-scale 0.125 \
    --image-size "$SIZE" --out "$OUT/archs.json"
"$PYTHON" -m paddle_supernet chain --chain configs/cvpr22/fmnist/chain_baseline.yaml --set seed=0 \
    --set "optimizer.lr_scale=$K" --set "eval.archs=$OUT/archs.json" "${input[@]}" --run-root "$OUT/k$K"
[ -f "$OUT/pretrained.json" ] || "$PYTHON" -m paddle_supernet evaluate \
    --checkpoint "$PRETRAINED" --archs "$OUT/archs.json" --out "$OUT/pretrained.json"
"$PYTHON" -m paddle_supernet score --gt "$OUT/pretrained.json" --submission "baseline lr x$K=$OUT/k$K/baseline/submission.json"
