#!/usr/bin/env python3
"""Supernet training step vs plain Paddle training of the same subnets built stand-alone.

For each of N sampled archs: one SGD-momentum step of the supernet with that
arch active, and one step of a StandaloneResNet20 of that arch (same shortcut
policy, so the same convolutions). Steps alternate so drift hits both alike;
the first step of each is a warm-up. Prints seconds per step and the ratio.

    OMP_NUM_THREADS=1 python bench/train_step.py --archs 12 --repeats 3 --image-size 32 --batch 64
"""
import argparse

import numpy as np
import paddle
from step_timing import print_ratio, time_steps

from paddle_supernet.nn.resnet20 import ResNet20Supernet, StandaloneResNet20
from paddle_supernet.spaces import get_space


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--archs", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    space = get_space("cvpr21_resnet20")
    paddle.seed(args.seed)
    supernet = ResNet20Supernet(num_classes=100, shortcut="projection")
    x = paddle.randn([args.batch, 3, args.image_size, args.image_size])
    y = paddle.to_tensor(np.random.default_rng(0).integers(0, 100, args.batch))
    codes = [space.largest(), space.smallest()] + space.sample_unique(args.archs - 2, args.seed)
    sup_times, plain_times = time_steps(supernet, lambda code: StandaloneResNet20(code, num_classes=100,
                                                                                  shortcut="projection"),
                                        codes, x, y, args.repeats, weight_decay=5e-4)
    print_ratio(sup_times, plain_times, f"archs={len(codes)} repeats={args.repeats} batch={args.batch} "
                f"image={args.image_size}", "<= 1.2")

if __name__ == "__main__":
    main()
