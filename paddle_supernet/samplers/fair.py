"""FairNAS strict fairness, adapted to depth and tied widths.

FairNAS trains, in one step, as many models as a choice has options, with
every option of every choice used exactly once. Our choices have different
option counts (2021: 4, 8 or 16 widths; 2022: 4 or 7 depths, 3, 5 or 7 width
codes) and a step trains K archs, so fairness is kept over a *cycle* of C
consecutive archs, C the least common multiple of the option counts (16 for
the 2021 space; 420 for the 2022 test distribution): within a cycle each
choice takes each of its n options exactly C / n times, in an order shuffled
per cycle. Archs are numbered within an epoch (step x K + k), so an epoch's
last cycle may be cut short.

Adaptation to depth and ties: a stage depth is a choice like a width; tied
widths (a 2022 stage's conv2 outputs, the stem with stage 1) are one choice.
The width of a block that its stage's depth leaves out is drawn but unused,
so the blocks beyond the shallowest depth are fair in expectation only; every
other choice (depths, stem, stage outputs, the first two blocks) is strictly
fair per cycle.

Example:
    >>> from paddle_supernet.spaces import get_space
    >>> sampler = FairSampler(get_space("cvpr21_resnet20"), seed=0)
    >>> codes = [c for step in range(4) for c in sampler.archs(0, step, 4)]  # one cycle of 16
    >>> sorted(int(c.split("-")[0]) for c in codes) == sorted([4, 8, 12, 16] * 4)
    True
"""
from __future__ import annotations

import math

import numpy as np

from ..rng import local_rng
from .base import STREAMS, Sampler, check_count


class FairSampler(Sampler):
    """See the module docstring."""

    def __init__(self, space, seed: int, distribution=None, variant=None):
        super().__init__(space, seed, distribution, variant)
        self.choices = space.choices(distribution)
        self.cycle = math.lcm(*(len(c.options) for c in self.choices))
        self._cached = (None, None)

    def _cycle_table(self, epoch: int, cycle: int) -> dict[str, np.ndarray]:
        """Choice name -> the option of each position of the cycle."""
        if self._cached[0] != (epoch, cycle):
            rng = local_rng(self.seed, epoch, cycle, 0, STREAMS["fair"])
            table = {c.name: rng.permutation(np.repeat(c.options, self.cycle // len(c.options))) for c in self.choices}
            self._cached = ((epoch, cycle), table)
        return self._cached[1]

    def arch_at(self, epoch: int, index: int) -> str:
        """The ``index``-th arch of ``epoch``."""
        cycle, position = divmod(index, self.cycle)
        table = self._cycle_table(epoch, cycle)
        return self.space.compose({name: int(options[position]) for name, options in table.items()}, self.distribution)

    def archs(self, epoch: int, step: int, count: int) -> list[str]:
        check_count(count)
        return [self.arch_at(epoch, step * count + k) for k in range(count)]
