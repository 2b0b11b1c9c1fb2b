"""Constraint candidates of candidate plasticity training (CPT, the 2022 runner-up's NSAS variant).

The manager keeps ``size`` candidates, the most diverse archs seen lately, and
a FIFO of the ``recent`` archs trained. Each step (:meth:`CandidateManager.update`):

1. on steps divisible by ``reset_every`` (within the epoch) the candidates are
   drawn afresh: from a list (the test list, released) or the distribution,
   with the local (seed, epoch, step) RNG (the released code's unseeded global
   RNG differed per rank);
2. the trained arch enters the FIFO;
3. j = the candidate nearest to it; the diversity of an arch is its mean
   distance to its ``knn`` nearest among the other candidates; the recent arch
   of highest diversity, if higher than candidate j's own, replaces j.

Distance (2022 codes): the sum of absolute differences of the width digits
(the stem digit and the 46 block digits; 0, an absent block, read as 9),
divided by 47 as released; ``skip_last_digit`` drops the last block digit as
the released code's slice did. Other spaces (the 2021 space, a space of your own):
the same over each choice's option index (:meth:`SearchSpace.choices`; an
absent choice, e.g. of a block a shallower arch lacks, read as one past the
last option), divided by the number of choices.

Example:
    >>> width_distance("1222211111" + "0" * 42, "1222211111" + "0" * 42)
    0.0
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..rng import local_rng
from .base import STREAMS

WIDTH_DIGITS_FROM = 5  # stem digit of a 52-digit 2022 code
NORMALISER = 47.0


def width_digits(code: str, skip_last_digit: bool = False) -> np.ndarray:
    """The width digits of a 2022 code with 0 read as 9."""
    digits = np.array([int(ch) for ch in code[WIDTH_DIGITS_FROM:]], dtype=np.int64)
    digits[digits == 0] = 9
    return digits[:-1] if skip_last_digit else digits


def width_distance(a: str, b: str, skip_last_digit: bool = False) -> float:
    """Released CPT distance between two 2022 codes (see the module docstring)."""
    return float(np.abs(width_digits(a, skip_last_digit) - width_digits(b, skip_last_digit)).sum() / NORMALISER)


def choice_indices(space, choices, code: str, distribution: str | None = None) -> np.ndarray:
    """Each choice's option index in ``code`` (an absent choice: one past its last option).

    >>> from paddle_supernet.spaces import get_space
    >>> space = get_space("cvpr21_resnet20")
    >>> choice_indices(space, space.choices(), space.smallest())[:3].tolist()
    [0, 0, 0]
    """
    values = space.choice_values(code, distribution)
    return np.array([c.options.index(values[c.name]) if c.name in values else len(c.options) for c in choices],
                    dtype=np.int64)


class CandidateManager:
    """See the module docstring. ``pool``: codes to reset from (None: the space's distribution)."""

    def __init__(self, space, seed: int, size: int = 10, recent: int = 100, knn: int = 9, reset_every: int = 500,
                 pool: list[str] | None = None, distribution: str | None = None, with_replacement: bool = False,
                 skip_last_digit: bool = False, salt: int = 0, accept=None):
        released = space.name == "cvpr22_resnet48"
        if not released:
            if skip_last_digit:
                raise InputError(f"drops the last 2022 width digit; space {space.name} has none", key="strategy.skip_last_digit")
            try:
                self._choices = space.choices(distribution)
            except InputError as err:
                raise InputError(f"constraint candidates measure distances between archs: {err.problem}",
                                 key="strategy.name") from None
        self._released = released
        self._normaliser = NORMALISER if released else float(len(self._choices))
        for key, value, least in (("candidates", size, 2), ("recent", recent, 1), ("knn", knn, 1),
                                  ("reset_every", reset_every, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise InputError(f"must be an integer >= {least}, got {value!r}", key=f"strategy.{key}")
        if knn > size - 1:
            raise InputError(f"must be at most candidates - 1 = {size - 1}, got {knn}", key="strategy.knn")
        if pool is not None and not with_replacement and len(pool) < size:
            raise InputError(f"the candidate list holds {len(pool)} archs, fewer than {size} candidates",
                             key="strategy.candidate_archs")
        self.space, self.seed, self.size, self.recent_size, self.knn = space, int(seed), size, recent, knn
        self.reset_every, self.pool, self.distribution = reset_every, pool, distribution
        self.with_replacement, self.skip_last_digit, self.salt = bool(with_replacement), bool(skip_last_digit), int(salt)
        self.accept = accept  # drawing from the distribution: keep only codes it accepts (a copy group's)
        self.candidates: list[str] = []
        self.recent: list[str] = []
        self._digits: dict[str, np.ndarray] = {}

    def _width(self, code: str) -> np.ndarray:
        digits = self._digits.get(code)
        if digits is None:
            if len(self._digits) > 10_000:
                self._digits.clear()
            digits = self._digits[code] = width_digits(code, self.skip_last_digit) if self._released else \
                choice_indices(self.space, self._choices, code, self.distribution)
        return digits

    def distance(self, a: str, b: str) -> float:
        """:func:`width_distance` of ``a`` and ``b`` (2022), the mean option-index distance otherwise."""
        return float(np.abs(self._width(a) - self._width(b)).sum() / self._normaliser)

    def diversity(self, code: str, others: list[str]) -> float:
        """Mean distance of ``code`` to its ``knn`` nearest of ``others``."""
        distances = sorted(self.distance(code, other) for other in others)
        return float(np.mean(distances[: self.knn]))

    def reset(self, epoch: int, step: int) -> None:
        rng = local_rng(self.seed, epoch, step, self.salt, STREAMS["candidates"])
        if self.pool is None:
            self.candidates = []
            for _ in range(1000 * self.size):
                code = self.space.sample_code(rng, self.distribution)
                if self.accept is None or self.accept(code):
                    self.candidates.append(code)
                    if len(self.candidates) == self.size:
                        break
            else:
                raise InputError("could not draw candidates within the copy group", key="strategy.candidates")
        else:
            picks = rng.choice(len(self.pool), size=self.size, replace=self.with_replacement)
            self.candidates = [self.pool[int(i)] for i in picks]

    def update(self, code: str, epoch: int, step: int) -> list[str]:
        """Reset when due, push ``code`` into the FIFO, replace the nearest candidate by the most
        diverse recent arch when that raises diversity; returns the candidates."""
        if step % self.reset_every == 0 or not self.candidates:
            self.reset(epoch, step)
        self.recent = (self.recent + [code])[-self.recent_size:]
        nearest = min(range(self.size), key=lambda i: (self.distance(self.candidates[i], code), i))
        others = self.candidates[:nearest] + self.candidates[nearest + 1:]
        best, champion = self.diversity(self.candidates[nearest], others), None
        for arch in self.recent:
            score = self.diversity(arch, others)
            if score > best:
                best, champion = score, arch
        if champion is not None:
            self.candidates[nearest] = champion
        return list(self.candidates)

    def state_dict(self) -> dict:
        return {"candidates": list(self.candidates), "recent": list(self.recent)}

    def load_state_dict(self, state: dict) -> None:
        self.candidates, self.recent = list(state.get("candidates", [])), list(state.get("recent", []))
