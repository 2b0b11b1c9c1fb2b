#!/usr/bin/env python3
"""A latency table's prediction (sum of per-unit latencies) against the measured end-to-end latency.

Builds (or extends) a table for a space at one input size and thread count, then for N drawn
archs prints predicted and measured ms (Paddle Inference, oneDNN, batch 1, median of repeats)
and the mean absolute relative error; also the seconds the table took to build.

    OMP_NUM_THREADS=1 python bench/latency_table.py --space cvpr21_resnet20 --image-size 12 --archs 8
    OMP_NUM_THREADS=1 python bench/latency_table.py --space cvpr22_resnet48 --image-size 16 --width-scale 0.125 --archs 8
"""
import argparse
import tempfile
import time
from pathlib import Path

from paddle_supernet.engine.config import load_config
from paddle_supernet.latency import LatencyTable, check_table
from paddle_supernet.models import build_standalone
from paddle_supernet.spaces import get_space


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--space", default="cvpr21_resnet20")
    parser.add_argument("--image-size", type=int, default=12)
    parser.add_argument("--width-scale", type=float, default=None)
    parser.add_argument("--archs", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--table", help="table file (default: a temporary one)")
    args = parser.parse_args()
    space = get_space(args.space)
    overrides = [f"space={args.space}", f"data.image_size={args.image_size}"]
    if args.space == "cvpr22_resnet48":
        overrides += ["model.small_input=true", f"model.width_scale={args.width_scale or 1.0}"]
    cfg = load_config(None, overrides)
    path = Path(args.table or Path(tempfile.mkdtemp()) / "table.json")
    table = LatencyTable(path, space.name, lambda code: build_standalone(cfg, code, 10, 0),
                         [1, 3, args.image_size, args.image_size], args.threads, args.repeats)
    codes = [space.smallest(), space.largest()] + space.sample_unique(args.archs - 2, 0)
    start = time.perf_counter()
    for code in codes:
        table.predict(code)
    built = time.perf_counter() - start
    report = check_table(table, codes)
    for row in report["archs"]:
        print(f"predicted {row['predicted_ms']:8.3f} ms  measured {row['measured_ms']:8.3f} ms  "
              f"error {row['relative_error']:+.1%}")
    print(f"{len(table.units)} units measured in {built:.1f} s; mean |relative error| over {len(codes)} archs = "
          f"{report['mean_abs_relative_error']:.1%}  (table: {path})")


if __name__ == "__main__":
    main()
