#!/usr/bin/env bash
# Score every submission in submissions/ against the fmnist32-r48 ground truth and write report.md
# with the proxies (counted on the small-image ResNet48 actually trained, 32x32), the seed-to-seed
# ceiling, the ImageNet accuracies of the 30 gt_arch30 archs as a row (scored on those 30), the
# middle-band table, plus one scatter plot each.
set -euo pipefail
cd "$(dirname "$0")"
imagenet=()
[ -f ../../../shared/data/cvpr22/gt_arch30.json ] &&
  imagenet=(--submission "ImageNet stand-alone (gt_arch30)=../../../shared/data/cvpr22/gt_arch30.json")
bash ../../tools/report_benchmark.sh . --space cvpr22_resnet48 --num-classes 10 --small-input --width-scale 0.125 \
    --image-size 32 "${imagenet[@]}" --band 0.25:0.75 \
    --title "fmnist32-r48: supernet rankings against stand-alone training"
