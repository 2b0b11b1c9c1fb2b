#!/usr/bin/env bash
# The benchmark's "pretrained ResNet48" (the analogue of the challenge's resnet48.pdparams):
# the largest small-image arch trained alone by configs/cvpr22/fmnist/pretrain_largest.yaml,
# deterministic from its seed, written to runs/cvpr22_fmnist/resnet48.pdparams in the
# official layout (regenerated, not committed). Every 2022 fmnist chain starts from it.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/bench_setup.sh  # installs what is needed; PYTHON: the interpreter it went into
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
"$PYTHON" -m paddle_supernet train --config configs/cvpr22/fmnist/pretrain_largest.yaml \
    --run-dir runs/cvpr22_fmnist/pretrain_largest
