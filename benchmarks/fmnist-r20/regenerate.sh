#!/usr/bin/env bash
# Regenerate the fmnist-r20 ground truth: 100 archs x 3 seeds trained stand-alone with
# recipe.yaml in two single-threaded workers. Resumes from gt.runs.jsonl when killed.
# Delete gt*.json* first to retrain everything from scratch.
# WORKERS=N bash ... trains N runs at a time on a machine with more cores (each run is single-threaded;
# the results do not depend on N).
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/bench_setup.sh  # installs what is needed; PYTHON: the interpreter it went into
export OMP_NUM_THREADS=1
"$PYTHON" -m paddle_supernet sample --space cvpr21_resnet20 --n 100 --seed 2021 --spread macs --spacing log \
    --out benchmarks/fmnist-r20/archs.json
"$PYTHON" -m paddle_supernet standalone --config benchmarks/fmnist-r20/recipe.yaml \
    --archs benchmarks/fmnist-r20/archs.json --out benchmarks/fmnist-r20/gt.json --seeds 0 1 2 --workers "${WORKERS:-2}"
