#!/usr/bin/env bash
# Regenerate the fmnist-r48 ground truth: 100 archs of the official 45k test list spanning
# the MACs range of the small-image ResNet48 actually trained, each trained stand-alone
# with recipe.yaml for 3 seeds in two single-threaded workers. Resumes from gt.runs.jsonl
# when killed. Delete gt*.json* first to retrain everything from scratch.
# WORKERS=N bash ... trains N runs at a time on a machine with more cores (each run is single-threaded;
# the results do not depend on N).
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/bench_setup.sh  # installs what is needed; PYTHON: the interpreter it went into
export OMP_NUM_THREADS=1
"$PYTHON" -m paddle_supernet sample --space cvpr22_resnet48 --from ../shared/data/cvpr22/CVPR_2022_NAS_Track1_test.json \
    --n 100 --spread macs --small-input --width-scale 0.125 --image-size 16 --out benchmarks/fmnist-r48/archs.json
"$PYTHON" -m paddle_supernet standalone --config benchmarks/fmnist-r48/recipe.yaml \
    --archs benchmarks/fmnist-r48/archs.json --out benchmarks/fmnist-r48/gt.json --seeds 0 1 2 --workers "${WORKERS:-2}"
