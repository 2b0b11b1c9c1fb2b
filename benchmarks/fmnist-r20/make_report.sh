#!/usr/bin/env bash
# Score every submission in submissions/ against the fmnist-r20 ground truth and write
# report.md with the proxies and the seed-to-seed ceiling, plus one scatter plot each.
set -euo pipefail
cd "$(dirname "$0")"
bash ../../tools/install.sh
shopt -s nullglob
args=()
for f in submissions/*.json; do args+=(--submission "$(basename "$f" .json)=$f"); done
python3 -m paddle_supernet report --gt gt.json --seeds gt.seed0.json gt.seed1.json \
    --space cvpr21_resnet20 --num-classes 10 "${args[@]}" --out-dir . --band 0.25:0.75 \
    --title "fmnist-r20: supernet rankings against stand-alone training"
