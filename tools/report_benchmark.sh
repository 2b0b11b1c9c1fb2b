#!/usr/bin/env bash
# Score every submission in BENCH/submissions/ against BENCH/gt.json and write BENCH/report.md and
# one scatter plot per submission; the seed-to-seed ceiling is gt.seed0.json against gt.seed1.json, the
# noise ceiling is that of the mean of every gt.seed<N>.json.
# Further arguments go to `paddle-supernet report` (the space, the network's options, a title, more
# --submission NAME=PATH rows with paths relative to BENCH). Each benchmark's make_report.sh calls it:
#   bash tools/report_benchmark.sh benchmarks/fmnist-r20 --space cvpr21_resnet20 --num-classes 10
set -euo pipefail
bench=$(cd "$1" && pwd)
shift
cd "$(dirname "$0")/.."
bash tools/install.sh
source tools/python.sh  # PYTHON: the interpreter install.sh installed into (a .venv under PEP 668)
choose_python
cd "$bench"
shopt -s nullglob
args=()
for f in submissions/*.json; do args+=(--submission "$(basename "$f" .json)=$f"); done
seeds=(gt.seed[0-9].json gt.seed[0-9][0-9].json)
"$PYTHON" -m paddle_supernet report --gt gt.json --seeds "${seeds[@]}" "${args[@]}" --out-dir . "$@"
