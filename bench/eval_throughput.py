#!/usr/bin/env python3
"""Evaluation throughput: Evaluator (data and model prepared once) vs a naive per-arch loop.

The naive loop does, for every arch, what the abandoned team scripts did: load
the checkpoint from disk, re-read and re-prepare the data set, then activate,
calibrate and score. Both score the same archs with the same calibration and
validation sizes on the embedded Fashion-MNIST. Prints subnets per hour and the ratio.

    OMP_NUM_THREADS=1 python bench/eval_throughput.py --archs 10
"""
import argparse
import tempfile
import time
from pathlib import Path

from paddle_supernet.data import load_dataset
from paddle_supernet.engine.checkpoint import save_checkpoint
from paddle_supernet.engine.config import load_config
from paddle_supernet.evaluator import Evaluator
from paddle_supernet.models import build_supernet
from paddle_supernet.spaces import get_space


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="configs/quickstart_fmnist_r20.yaml")
    parser.add_argument("--archs", type=int, default=10)
    args = parser.parse_args()
    cfg = load_config(args.config)
    ev = cfg["eval"]
    print(f"config {args.config}: image {cfg['data']['image_size']}, calibration {ev['calib_images']} images, "
          f"validation {ev['val_subset'] or 'all'} images")
    space = get_space(cfg["space"])
    codes = space.sample_unique(args.archs, 123)
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = Path(tmp) / "checkpoint.pdparams"
        data = load_dataset(cfg["data"])
        model = build_supernet(cfg, data[0].num_classes)
        save_checkpoint(ckpt, model, None, {"config": cfg, "space": cfg["space"], "num_classes": data[0].num_classes,
                                            "fingerprint": "", "step": 0, "total_steps": 0, "finished": True})

        t = time.perf_counter()
        evaluator = Evaluator.from_checkpoint(ckpt)  # reads the data once
        fast_scores = [evaluator.score(code) for code in codes]
        fast = time.perf_counter() - t

        t = time.perf_counter()
        naive_scores = []
        for code in codes:  # everything again for every arch
            naive_scores.append(Evaluator.from_checkpoint(ckpt).score(code))
        naive = time.perf_counter() - t
    assert fast_scores == naive_scores, "both loops must compute the same scores"
    print(f"prepared once : {fast:7.1f} s for {len(codes)} archs = {3600 * len(codes) / fast:8.0f} subnets/hour")
    print(f"naive per arch: {naive:7.1f} s for {len(codes)} archs = {3600 * len(codes) / naive:8.0f} subnets/hour")
    print(f"ratio = {naive / fast:.2f}x  (goal >= 3)")


if __name__ == "__main__":
    main()
