#!/usr/bin/env bash
# Issue 24, item 3: does the official baseline's fmnist twin move away from the pretrained full
# network it starts from? Scores the pretrained network as it is and the baseline twin trained with
# optimizer.lr_scale=K (seed 0) on the new benchmark's arch list (the 30 gt_arch30 archs + 70 of the
# 45k list at MACs quantiles), then prints their agreement: the rule asks for Kendall < 0.95.
# Resumes after a kill; everything under runs/twin_rule/ (not committed).
#   K=1 bash benchmarks/pilot-r48-size/twin_rule.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
K=${K:-1}
OUT=runs/twin_rule
export OMP_NUM_THREADS=1
mkdir -p "$OUT"
python3 -m paddle_supernet sample --space cvpr22_resnet48 --from ../shared/data/cvpr22/CVPR_2022_NAS_Track1_test.json \
    --keep ../shared/data/cvpr22/gt_arch30.json --n 70 --spread macs --small-input --width-scale 0.125 \
    --image-size 16 --out "$OUT/archs.json"
bash benchmarks/fmnist-r48/pretrain.sh
[ -f "$OUT/pretrained.json" ] || python3 -m paddle_supernet evaluate \
    --checkpoint runs/cvpr22_fmnist/pretrain_largest/checkpoint.pdparams --archs "$OUT/archs.json" --out "$OUT/pretrained.json"
python3 -m paddle_supernet chain --chain configs/cvpr22/fmnist/chain_baseline.yaml --set seed=0 \
    --set "optimizer.lr_scale=$K" --set "eval.archs=$OUT/archs.json" --run-root "$OUT/k$K"
python3 -m paddle_supernet score --gt "$OUT/pretrained.json" --submission "baseline lr x$K=$OUT/k$K/baseline/submission.json"
