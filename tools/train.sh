#!/usr/bin/env bash
# The main job (placeholder until supernet training lands): sample an arch list,
# write params and MACs proxy submissions, and score them against the real 2021
# ground truth when ../shared/data is present.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh
out=runs/quickstart
mkdir -p "$out"
python3 -m paddle_supernet sample --space cvpr21_resnet20 --n 200 --seed 0 --out "$out/archs.json"
for proxy in params macs; do
  python3 -m paddle_supernet proxy --space cvpr21_resnet20 --proxy "$proxy" --archs "$out/archs.json" --out "$out/$proxy.json"
done
gt=../shared/data/cvpr21/gt_first_1000.json
if [ -f "$gt" ]; then
  for proxy in params macs; do
    python3 -m paddle_supernet proxy --space cvpr21_resnet20 --proxy "$proxy" --archs "$gt" --out "$out/gt1000_$proxy.json"
  done
  python3 -m paddle_supernet score --submission "params=$out/gt1000_params.json" --submission "macs=$out/gt1000_macs.json" --gt "$gt"
fi
