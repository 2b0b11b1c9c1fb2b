#!/usr/bin/env bash
# Score every submission in submissions/ against the fmnist-r20 ground truth and write
# report.md with the proxies and the seed-to-seed ceiling, plus one scatter plot each.
set -euo pipefail
cd "$(dirname "$0")"
bash ../../tools/report_benchmark.sh . --space cvpr21_resnet20 --num-classes 10 --band 0.25:0.75 \
    --title "fmnist-r20: supernet rankings against stand-alone training"
