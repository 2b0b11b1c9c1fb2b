"""Convergence-considering fair sampling (CCFS, the 2022 winner's stage-2 sampler).

Each step draws ``pool`` archs uniformly from the distribution, scores each by
a sampling factor Phi and trains the top K (the strategy's ``k``):

- ``measure: params`` (the paper): Phi = sum over layers of alpha_g x p_i, p_i
  the layer's parameter count in the network actually trained (the model's
  small-image variant included), alpha_g its group's weight (stem, stage 1, ...;
  the classifier is not counted). CCFS-F: alphas 1.0, 1.0, 0.55, 0.43, 0.24;
  CCFS-M: alpha = 1.
- ``measure: channels`` (the released code, 2022 space only): Phi = the stem's
  width plus every active conv1 and conv2 width, each ``ratio x 64 x w_stage``
  rounded up to a multiple of 8 in floating point as released, with
  ``stage_weights`` w = 1, 1.1, 1.7, 1.9.

``ties``: ``first`` keeps the K distinct archs of highest Phi (equal Phi: the
earlier draw); ``released`` keeps the released dict keyed by Phi (an equal Phi
overwrites, so a step may get 3 archs or, after a collision, a smaller one).
``extra_uniform_every`` N > 0: on steps divisible by N (within the epoch) one
more uniform arch is added (``released``: uniform draws until K + 1 distinct
sizes are held, as released).

Example:
    >>> from paddle_supernet.spaces import get_space
    >>> space = get_space("cvpr21_resnet20")
    >>> sampler = CcfsSampler(space, seed=0, pool=50, alphas=1.0)
    >>> top = sampler.archs(0, 0, 2)
    >>> pool = sampler.pool(0, 0)
    >>> sorted(pool, key=sampler.phi, reverse=True)[:2] == top
    True
"""
from __future__ import annotations

from ..errors import InputError
from ..rng import local_rng
from .base import STREAMS, Sampler, check_count

MEASURES = ("params", "channels")
TIES = ("first", "released")


def up_to_eight(value: float) -> float:
    """The released ``up2eight``: ``x`` if ``x % 8 == 0`` else ``x + 8 - x % 8``, in floating point.

    >>> up_to_eight(64.0), up_to_eight(0.9 * 64) < 64
    (64.0, True)
    """
    remainder = value % 8
    return value if remainder == 0 else value + 8 - remainder


class CcfsSampler(Sampler):
    """See the module docstring."""

    def __init__(self, space, seed: int, distribution=None, variant=None, pool: int = 400, alphas=1.0,
                 measure: str = "params", stage_weights=None, extra_uniform_every: int = 0, ties: str = "first"):
        super().__init__(space, seed, distribution, variant)
        if isinstance(pool, bool) or not isinstance(pool, int) or pool < 1:
            raise InputError(f"must be an integer >= 1, got {pool!r}", key="sampler.pool")
        if measure not in MEASURES:
            raise InputError(f"must be one of {', '.join(MEASURES)}, got {measure!r}", key="sampler.measure")
        if ties not in TIES:
            raise InputError(f"must be one of {', '.join(TIES)}, got {ties!r}", key="sampler.ties")
        if isinstance(extra_uniform_every, bool) or not isinstance(extra_uniform_every, int) or extra_uniform_every < 0:
            raise InputError(f"must be an integer >= 0, got {extra_uniform_every!r}", key="sampler.extra_uniform_every")
        if measure == "channels":
            if space.name != "cvpr22_resnet48":
                raise InputError(f"the released channel-size measure is defined for cvpr22_resnet48 only, not {space.name}",
                                 key="sampler.measure")
            if not isinstance(stage_weights, list) or len(stage_weights) != space.num_stages:
                raise InputError(f"measure: channels needs {space.num_stages} stage weights, got {stage_weights!r}",
                                 key="sampler.stage_weights")
        groups = space.num_stages + 1
        if isinstance(alphas, (int, float)) and not isinstance(alphas, bool):
            alphas = [float(alphas)] * groups
        if not isinstance(alphas, list) or len(alphas) != groups or not all(
                isinstance(a, (int, float)) and not isinstance(a, bool) and a >= 0 for a in alphas):
            raise InputError(f"must be one number >= 0 or a list of {groups} (stem and {space.num_stages} stages) for "
                             f"space {space.name}, got {alphas!r}", key="sampler.alphas")
        if measure == "params" and not any(space.group_params(space.largest(distribution), **self.variant)):
            raise InputError(f"space {space.name} puts no layer in a group CCFS weighs (layer_specs names stem.* and "
                             "stages.<s>.*), so every arch would score 0", key="sampler.name")
        self.pool_size, self.alphas, self.measure = pool, [float(a) for a in alphas], measure
        self.stage_weights = [float(w) for w in stage_weights] if stage_weights else None
        self.extra_every, self.ties = extra_uniform_every, ties
        self._phi_cache: dict[str, float] = {}

    # ---- the sampling factor ---------------------------------------------
    def phi(self, code: str) -> float:
        """The sampling factor of ``code`` (see the module docstring)."""
        value = self._phi_cache.get(code)
        if value is None:
            value = self._channels(code) if self.measure == "channels" else self._params(code)
            if len(self._phi_cache) > 200_000:
                self._phi_cache.clear()
            self._phi_cache[code] = value
        return value

    def _params(self, code: str) -> float:
        return float(sum(a * p for a, p in zip(self.alphas, self.space.group_params(code, **self.variant))))

    def _channels(self, code: str) -> float:
        from ..spaces.cvpr22_resnet48 import STEM_BASE, WIDTH_RATIOS

        arch = self.space.decode(code)
        total = up_to_eight(WIDTH_RATIOS[arch.stem_code - 1] * STEM_BASE)
        for s, blocks in enumerate(arch.block_codes):
            base = STEM_BASE * self.stage_weights[s]
            for mid, out in blocks:
                total += up_to_eight(WIDTH_RATIOS[mid - 1] * base) + up_to_eight(WIDTH_RATIOS[out - 1] * base)
        return total

    # ---- drawing ------------------------------------------------------------
    def pool(self, epoch: int, step: int) -> list[str]:
        """The ``pool`` uniform draws of a step, in draw order."""
        rng = local_rng(self.seed, epoch, step, 0, STREAMS["ccfs"])
        return [self.space.sample_code(rng, self.distribution) for _ in range(self.pool_size)]

    def archs(self, epoch: int, step: int, count: int) -> list[str]:
        check_count(count)
        draws = self.pool(epoch, step)
        extra = self.extra_every and step % self.extra_every == 0
        extra_rng = local_rng(self.seed, epoch, step, 0, STREAMS["ccfs_extra"]) if extra else None
        if self.ties == "released":
            return self._released_top(draws, count, extra_rng)
        first_index = {}
        for i, code in enumerate(draws):
            first_index.setdefault(code, i)
        top = sorted(first_index, key=lambda c: (-self.phi(c), first_index[c]))[:count]
        if extra_rng is not None:
            for _ in range(1000):
                code = self.space.sample_code(extra_rng, self.distribution)
                if code not in top:
                    top.append(code)
                    break
        return top

    def _released_top(self, draws: list[str], count: int, extra_rng) -> list[str]:
        """The released top-K dict keyed by size (equal sizes overwrite; insertion order kept)."""
        top: dict[float, str] = {}
        for code in draws:
            size = self.phi(code)
            if len(top) < count:
                top[size] = code
            elif size > min(top):
                del top[min(top)]
                top[size] = code
        if extra_rng is not None:
            for _ in range(1000):
                if len(top) >= count + 1:
                    break
                code = self.space.sample_code(extra_rng, self.distribution)
                top[self.phi(code)] = code
        return list(top.values())
