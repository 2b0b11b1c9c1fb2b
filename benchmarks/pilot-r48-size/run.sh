#!/usr/bin/env bash
# The 2022 size pilot: stand-alone recipes (ref = fmnist-r48's) on the same 14 archs
# (12 of gt_arch30 at evenly spaced MACs ranks, plus the 45k list's smallest and largest
# by MACs) x 2 seeds, in two niced single-threaded workers. Resumes from each recipe's
# gt.runs.jsonl when killed. `python3 tools/pilot_summary.py benchmarks/pilot-r48-size` summarises.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/bench_setup.sh  # installs what is needed; PYTHON: the interpreter it went into
export OMP_NUM_THREADS=1
for recipe in ${RECIPES:-ref d-crop-warm c-32px-warm e-32px-60k-warm a-60k-warm b-w4-warm}; do
  nice -n 10 "$PYTHON" -m paddle_supernet standalone --config "benchmarks/pilot-r48-size/$recipe/recipe.yaml" \
      --archs benchmarks/pilot-r48-size/archs.json --out "benchmarks/pilot-r48-size/$recipe/gt.json" \
      --seeds 0 1 --workers 2
done
