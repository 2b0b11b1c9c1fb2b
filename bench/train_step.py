#!/usr/bin/env python3
"""Supernet training step vs plain Paddle training of the same subnets built stand-alone.

For each of N sampled archs: one SGD-momentum step of the supernet with that
arch active, and one step of a StandaloneResNet20 of that arch (same shortcut
policy, so the same convolutions). Steps alternate so drift hits both alike;
the first step of each is a warm-up. Prints seconds per step and the ratio.

    OMP_NUM_THREADS=1 python bench/train_step.py --archs 12 --repeats 3 --image-size 32 --batch 64
"""
import argparse
import os
import time

import numpy as np
import paddle
import paddle.nn.functional as F

from paddle_supernet.nn.resnet20 import ResNet20Supernet, StandaloneResNet20
from paddle_supernet.spaces import get_space


def one_step(model, optimizer, x, y) -> float:
    t = time.perf_counter()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    optimizer.clear_grad()
    return time.perf_counter() - t


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
    supernet.train()
    sup_opt = paddle.optimizer.Momentum(0.01, parameters=[p for p in supernet.parameters() if not p.stop_gradient],
                                        weight_decay=5e-4)
    x = paddle.randn([args.batch, 3, args.image_size, args.image_size])
    y = paddle.to_tensor(np.random.default_rng(0).integers(0, 100, args.batch))
    sup_times, plain_times = [], []
    codes = [space.largest(), space.smallest()] + space.sample_unique(args.archs - 2, args.seed)
    for code in codes:
        plain = StandaloneResNet20(code, num_classes=100, shortcut="projection")
        plain.train()
        plain_opt = paddle.optimizer.Momentum(0.01, parameters=[p for p in plain.parameters() if not p.stop_gradient],
                                              weight_decay=5e-4)
        supernet.set_active(code)
        one_step(supernet, sup_opt, x, y)
        one_step(plain, plain_opt, x, y)  # warm-up of both
        for _ in range(args.repeats):
            sup_times.append(one_step(supernet, sup_opt, x, y))
            plain_times.append(one_step(plain, plain_opt, x, y))
    sup, plain = float(np.mean(sup_times)), float(np.mean(plain_times))
    print(f"archs={len(codes)} repeats={args.repeats} batch={args.batch} image={args.image_size} "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    print(f"supernet step    {sup * 1000:8.1f} ms (median {np.median(sup_times) * 1000:.1f})")
    print(f"stand-alone step {plain * 1000:8.1f} ms (median {np.median(plain_times) * 1000:.1f})")
    print(f"ratio supernet / stand-alone = {sup / plain:.3f}  (goal <= 1.2)")


if __name__ == "__main__":
    main()
