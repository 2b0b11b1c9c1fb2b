"""Local random generators keyed by (seed, epoch, step, k).

Subnet sampling never touches a global RNG: every draw comes from a generator
derived from the run seed and the position in training, so every data-parallel
rank draws the same subnets and a resumed run draws what the original would.

Example:
    >>> a = local_rng(0, epoch=1, step=2, k=3).integers(0, 100)
    >>> b = local_rng(0, epoch=1, step=2, k=3).integers(0, 100)
    >>> bool(a == b)
    True
"""
from __future__ import annotations

import numpy as np


def local_rng(seed: int, epoch: int = 0, step: int = 0, k: int = 0, stream: int = 0) -> np.random.Generator:
    """A fresh ``numpy.random.Generator`` determined by its arguments alone.

    ``stream`` separates independent uses at the same position (e.g. sampling
    archs versus choosing calibration images).
    """
    for name, value in (("seed", seed), ("epoch", epoch), ("step", step), ("k", k), ("stream", stream)):
        if int(value) != value or value < 0:
            raise ValueError(f"local_rng: {name} must be a non-negative integer, got {value!r}")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), int(epoch), int(step), int(k), int(stream)])))
