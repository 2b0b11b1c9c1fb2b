#!/usr/bin/env bash
# The main job. With no argument: train the quick-start supernet on the embedded
# Fashion-MNIST, score the fmnist-r20 benchmark's 100 archs, write runs/<name>/submission.json and
# print the supernet's ranking against its stand-alone ground truth and the params and MACs proxies.
# With a config argument (and optional `--set key=value ...`), run that config.
# Installs what is missing first. Re-running resumes a killed run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh --data
source tools/python.sh
choose_python
config=${1:-configs/quickstart_fmnist_r20.yaml}
[ $# -gt 0 ] && shift
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
exec "$PYTHON" -m paddle_supernet run --config "$config" "$@"
