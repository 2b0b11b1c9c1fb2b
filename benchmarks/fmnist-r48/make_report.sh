#!/usr/bin/env bash
# Score every submission in submissions/ against the fmnist-r48 ground truth and write
# report.md with the proxies (counted on the small-image ResNet48 actually trained) and
# the seed-to-seed ceiling, the middle-band table, plus one scatter plot each.
set -euo pipefail
cd "$(dirname "$0")"
bash ../../tools/report_benchmark.sh . --space cvpr22_resnet48 --num-classes 10 --small-input --width-scale 0.125 \
    --image-size 16 --band 0.25:0.75 --title "fmnist-r48: supernet rankings against stand-alone training"
