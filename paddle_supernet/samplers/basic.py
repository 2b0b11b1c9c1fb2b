"""Uniform, sandwich and list samplers.

Example:
    >>> from paddle_supernet.spaces import get_space
    >>> space = get_space("cvpr21_resnet20")
    >>> UniformSampler(space, seed=0).archs(0, 5, 2) == [space.sample(0, 0, 5, k) for k in range(2)]
    True
"""
from __future__ import annotations

from ..errors import InputError
from ..rng import local_rng
from .base import STREAMS, Sampler, check_count


class UniformSampler(Sampler):
    """K independent uniform draws of the distribution: draw k of a step is ``space.sample(seed, epoch, step, k)``."""

    def archs(self, epoch: int, step: int, count: int) -> list[str]:
        return [self.uniform(epoch, step, k) for k in range(check_count(count))]


class SandwichSampler(Sampler):
    """The OFA / BigNAS sandwich rule: the largest arch, the smallest, then ``count - 2`` uniform
    draws (draw k is the uniform sampler's draw k + 2)."""

    def archs(self, epoch: int, step: int, count: int) -> list[str]:
        check_count(count, least=2)
        ends = [self.space.largest(self.distribution), self.space.smallest(self.distribution)]
        return ends + [self.uniform(epoch, step, k) for k in range(2, count)]


class ListSampler(Sampler):
    """Archs of a list (e.g. the official test list), in an order shuffled per pass through the list
    and used one after another across steps, so each is trained once per pass (as the released CPT
    and SSE stages consumed the test list). ``archs``: the list's codes (read by the builder)."""

    def __init__(self, space, seed: int, distribution=None, variant=None, archs=None):
        super().__init__(space, seed, distribution, variant)
        if not archs:
            raise InputError("needs an arch list (a JSON list file in the challenge format)", key="sampler.archs")
        self.codes = ShuffledPasses(archs, seed)

    def _position(self, epoch: int, step: int, k: int, count: int) -> int:
        if self.steps_per_epoch is None:
            raise RuntimeError("bind(steps_per_epoch) before sampling from a list")
        return (epoch * self.steps_per_epoch + step) * count + k

    def archs(self, epoch: int, step: int, count: int) -> list[str]:
        check_count(count)
        return [self.codes.at(self._position(epoch, step, k, count)) for k in range(count)]


class ShuffledPasses:
    """An endless sequence of passes through ``codes``, each in its own order shuffled by
    (seed, ``salt``, pass): every code once per pass.

    >>> seq = ShuffledPasses(["a", "b", "c"], seed=0)
    >>> sorted(seq.at(i) for i in range(3)), sorted(seq.at(i) for i in range(3, 6))
    (['a', 'b', 'c'], ['a', 'b', 'c'])
    """

    def __init__(self, codes, seed: int, salt: int = 0):
        self.codes, self.seed, self.salt = list(codes), int(seed), int(salt)
        self._pass, self._order = None, None

    def __len__(self) -> int:
        return len(self.codes)

    def at(self, position: int) -> str:
        this_pass, index = divmod(position, len(self.codes))
        if this_pass != self._pass:
            self._order = local_rng(self.seed, self.salt, this_pass, 0, STREAMS["list"]).permutation(len(self.codes))
            self._pass = this_pass
        return self.codes[int(self._order[index])]


def read_list_codes(path: str, space) -> list[str]:
    """The codes of an arch list file, each validated against ``space``."""
    from ..io.challenge_json import read_arch_file

    return [entry.arch for entry in read_arch_file(path, space).values()]
