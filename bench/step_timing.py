"""Shared by the training-step benchmarks: alternate supernet and stand-alone SGD steps per arch.

    >>> sup, plain = time_steps(supernet, lambda code: Standalone(code), codes, x, y, repeats=3)  # doctest: +SKIP
"""
import os
import time

import numpy as np
import paddle
import paddle.nn.functional as F


def momentum(model, weight_decay: float):
    return paddle.optimizer.Momentum(0.01, parameters=[p for p in model.parameters() if not p.stop_gradient],
                                     weight_decay=weight_decay)


def one_step(model, optimizer, x, y) -> float:
    t = time.perf_counter()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    optimizer.clear_grad()
    return time.perf_counter() - t


def time_steps(supernet, make_plain, codes, x, y, repeats: int, weight_decay: float) -> tuple[list, list]:
    """Seconds per step of the supernet with each code active and of ``make_plain(code)``; the
    steps alternate so drift hits both alike, and the first step of each is a warm-up."""
    supernet.train()
    sup_opt = momentum(supernet, weight_decay)
    sup_times, plain_times = [], []
    for code in codes:
        plain = make_plain(code)
        plain.train()
        plain_opt = momentum(plain, weight_decay)
        supernet.set_active(code)
        one_step(supernet, sup_opt, x, y)
        one_step(plain, plain_opt, x, y)
        for _ in range(repeats):
            sup_times.append(one_step(supernet, sup_opt, x, y))
            plain_times.append(one_step(plain, plain_opt, x, y))
    return sup_times, plain_times


def print_ratio(sup_times, plain_times, header: str, goal: str) -> None:
    sup, plain = float(np.mean(sup_times)), float(np.mean(plain_times))
    print(f"{header} OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    print(f"supernet step    {sup * 1000:8.1f} ms (median {np.median(sup_times) * 1000:.1f})")
    print(f"stand-alone step {plain * 1000:8.1f} ms (median {np.median(plain_times) * 1000:.1f})")
    print(f"ratio supernet / stand-alone = {sup / plain:.3f}  (goal {goal})")
