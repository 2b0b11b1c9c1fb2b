#!/usr/bin/env bash
# Regenerate the fmnist32-r48 ground truth: the 30 archs of gt_arch30.json (ImageNet accuracies
# known) plus 70 of the official 45k test list at quantiles of the MACs of the network actually
# trained (the small-image ResNet48 at width 1/8, 32x32), each trained stand-alone with
# recipe.yaml for 2 seeds in two single-threaded niced workers. Resumes from gt.runs.jsonl when
# killed. Delete gt*.json* first to retrain everything from scratch.
# WORKERS=N bash ... trains N runs at a time on a machine with more cores (each run is single-threaded;
# the results do not depend on N).
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/bench_setup.sh  # installs what is needed; PYTHON: the interpreter it went into
export OMP_NUM_THREADS=1
"$PYTHON" -m paddle_supernet sample --space cvpr22_resnet48 --from ../shared/data/cvpr22/CVPR_2022_NAS_Track1_test.json \
    --keep ../shared/data/cvpr22/gt_arch30.json --n 70 --spread macs --small-input --width-scale 0.125 \
    --image-size 32 --out benchmarks/fmnist32-r48/archs.json
nice -n 10 "$PYTHON" -m paddle_supernet standalone --config benchmarks/fmnist32-r48/recipe.yaml \
    --archs benchmarks/fmnist32-r48/archs.json --out benchmarks/fmnist32-r48/gt.json --seeds 0 1 --workers "${WORKERS:-2}"
