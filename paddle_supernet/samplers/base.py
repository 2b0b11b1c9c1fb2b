"""The sampler interface: which archs one training step trains.

A sampler is pure Python. :meth:`Sampler.archs` returns the codes of a step
from nothing but (seed, epoch, step), so every data-parallel rank and every
resumed run trains the same archs; a sampler that keeps history (none of the
shipped ones does) would put it in :meth:`state_dict`.

Example:
    >>> from paddle_supernet.spaces import get_space
    >>> from paddle_supernet.samplers import build_sampler
    >>> sampler = build_sampler({"name": "sandwich"}, get_space("cvpr21_resnet20"), seed=0)
    >>> codes = sampler.archs(epoch=0, step=0, count=3)
    >>> codes[0] == sampler.space.largest(), codes[1] == sampler.space.smallest()
    (True, True)
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import InputError
from ..spaces.base import Choice

#: ``stream`` of the local RNG each sampler draws from (never the strategies' own draws, stream 0)
STREAMS = {"fair": 11, "ccfs": 12, "ccfs_extra": 13, "list": 14, "phases": 15, "candidates": 16, "shrinking": 17}


class Sampler:
    """Base class. Subclasses implement :meth:`archs`."""

    #: registered name (set by the registry)
    name = ""

    def __init__(self, space, seed: int, distribution: str | None = None, variant: dict | None = None):
        self.space, self.seed, self.distribution = space, int(seed), distribution
        self.variant = dict(variant or {})
        self.steps_per_epoch = None

    def bind(self, steps_per_epoch: int) -> None:
        """Told by the loop before training (samplers that count archs across epochs need it)."""
        self.steps_per_epoch = int(steps_per_epoch)

    def archs(self, epoch: int, step: int, count: int) -> list[str]:
        """The codes step ``step`` of ``epoch`` trains; ``count`` is the strategy's K (some samplers
        return one more on some steps, e.g. the released CCFS)."""
        raise NotImplementedError

    def uniform(self, epoch: int, step: int, k: int) -> str:
        """The k-th uniform draw of a step: what strategies drew before samplers existed."""
        return self.space.sample(self.seed, epoch, step, k, distribution=self.distribution)

    def phase_at(self, epoch: int):
        """The training phase of ``epoch`` (only the phases sampler has phases)."""
        return None

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`."""


def check_count(count: int, least: int = 1) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or count < least:
        raise InputError(f"must be an integer >= {least} for this sampler, got {count!r}", key="strategy.k")
    return count


def draw_from_choices(space, choices: Sequence[Choice], rng: np.random.Generator, distribution: str | None) -> str:
    """One code with every choice drawn uniformly from its ``options``, in the choices' order."""
    values = {c.name: c.options[int(rng.integers(len(c.options)))] for c in choices}
    return space.compose(values, distribution)
