#!/usr/bin/env python3
"""ResNet48 (2022): supernet training step vs plain training of the same subnets, and per-arch
evaluation cost vs the pure forward cost of the same images.

Part 1: for each of N archs of the test distribution (largest, smallest, random), one
SGD-momentum step of the supernet with that arch active and one step of a
StandaloneResNet48 of that arch (the same convolutions); steps alternate, the first of
each is a warm-up. Part 2: the evaluator's per-arch cost (activate, exact BN calibration
on the calibration images, score the validation images) against a plain eval-mode
forward of the exported network over the same calibration + validation images.
Defaults: the fmnist-r48 scale (small-image ResNet48 at width 1/8, 16x16).

    OMP_NUM_THREADS=1 python bench/train_step_r48.py --archs 8 --repeats 3
"""
import argparse
import time

import numpy as np
import paddle
from step_timing import print_ratio, time_steps

from paddle_supernet.evaluator import Evaluator
from paddle_supernet.nn.resnet48 import ResNet48Supernet, StandaloneResNet48
from paddle_supernet.spaces import get_space


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--archs", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--image-size", type=int, default=16)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--width-scale", type=float, default=0.125)
    parser.add_argument("--full-stem", action="store_true", help="the official 7x7/2 stem + max-pool")
    parser.add_argument("--calib-images", type=int, default=512)
    parser.add_argument("--val-images", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    space = get_space("cvpr22_resnet48")
    opts = {"small_input": not args.full_stem, "width_scale": args.width_scale}
    paddle.seed(args.seed)
    supernet = ResNet48Supernet(num_classes=10, **opts)
    rng = np.random.default_rng(0)
    x = paddle.to_tensor(rng.normal(size=(args.batch, 3, args.image_size, args.image_size)).astype("float32"))
    y = paddle.to_tensor(rng.integers(0, 10, args.batch))
    codes = [space.largest(), space.smallest()] + [space.sample(args.seed, step=i) for i in range(args.archs - 2)]
    sup_times, plain_times = time_steps(supernet, lambda code: StandaloneResNet48(code, num_classes=10, **opts),
                                        codes, x, y, args.repeats, weight_decay=3e-5)
    print_ratio(sup_times, plain_times, f"archs={len(codes)} repeats={args.repeats} batch={args.batch} "
                f"image={args.image_size} opts={opts}", "<= 1.1")

    def images(n, start):
        return [paddle.to_tensor(rng.normal(size=(min(500, n - s), 3, args.image_size, args.image_size)).astype("float32"))
                for s in range(0, n, 500)]
    calib, val = images(args.calib_images, 0), images(args.val_images, 1)
    val_labelled = [(v, paddle.to_tensor(rng.integers(0, 10, v.shape[0]))) for v in val]
    evaluator = Evaluator(supernet, space, calib, val_labelled)
    eval_times, forward_times = [], []
    for code in codes:
        evaluator.score(code)  # warm-up
        t = time.perf_counter()
        evaluator.score(code)
        eval_times.append(time.perf_counter() - t)
        net = supernet.export(code)
        net.eval()
        with paddle.no_grad():
            net(calib[0])
            t = time.perf_counter()
            for batch in calib + val:
                net(batch)
        forward_times.append(time.perf_counter() - t)
    ev, fw = float(np.mean(eval_times)), float(np.mean(forward_times))
    print(f"evaluation per arch {ev * 1000:8.1f} ms ({args.calib_images} calibration + {args.val_images} validation images)")
    print(f"pure forward        {fw * 1000:8.1f} ms (the same images through the exported plain network)")
    print(f"ratio evaluation / forward = {ev / fw:.3f}")


if __name__ == "__main__":
    main()
