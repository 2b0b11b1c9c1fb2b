"""What every search space offers, and the layer description it counts with.

A search space is pure Python: it turns arch codes into structured archs and
back, validates, samples from a local RNG, and describes the stand-alone
network of an arch as a flat list of :class:`LayerSpec` from which parameter
and multiply-accumulate counts follow.

Example:
    >>> from paddle_supernet.spaces import get_space
    >>> space = get_space("cvpr21_resnet20")
    >>> space.params(space.largest()) > space.params(space.smallest())
    True
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from ..errors import InputError
from ..rng import local_rng


@dataclass(frozen=True)
class LayerSpec:
    """One parameterised layer of a stand-alone network.

    ``kind`` is ``conv`` (no bias), ``bn`` (scale and shift), ``linear`` (with
    bias) or ``prelu`` (``cout`` slopes). ``out_hw`` is the output side length
    of a conv (1 for the others).
    """

    kind: str
    name: str
    cin: int
    cout: int
    kernel: int = 1
    stride: int = 1
    out_hw: int = 1

    @property
    def params(self) -> int:
        if self.kind == "conv":
            return self.kernel * self.kernel * self.cin * self.cout
        if self.kind == "bn":
            return 2 * self.cout
        if self.kind == "linear":
            return self.cin * self.cout + self.cout
        if self.kind == "prelu":
            return self.cout
        raise ValueError(f"unknown layer kind {self.kind!r}")

    @property
    def macs(self) -> int:
        if self.kind == "conv":
            return self.kernel * self.kernel * self.cin * self.cout * self.out_hw * self.out_hw
        if self.kind == "linear":
            return self.cin * self.cout
        return 0


@dataclass(frozen=True)
class Choice:
    """One searchable decision of a space, as samplers see it.

    ``kind`` is ``depth`` or ``width``; ``stage`` is the 0-based stage it belongs
    to (the stem counts as stage 0); ``options`` are the values a code can hold
    (depths, width codes or channel counts), in increasing order. Tied widths
    (e.g. a stage's conv2 outputs in the 2022 test distribution) are one choice.
    """

    name: str
    kind: str
    stage: int
    options: tuple[int, ...]


class SearchSpace(abc.ABC):
    """Base class of a registered search space (see :func:`register_space`).

    Subclasses implement :meth:`decode`, :meth:`encode`, :meth:`sample_code`,
    :meth:`largest`, :meth:`smallest` and :meth:`layer_specs`.
    """

    #: registered name, set by ``register_space``
    name: str = ""
    #: the ``acc`` value the official arch list carries (0 or 0.0)
    placeholder_acc: float | int = 0
    #: sampling distributions this space offers; the first is the default
    distributions: Sequence[str] = ("uniform",)
    #: ``model.*`` config keys that only this space's networks understand, each with the value that
    #: leaves it off; a run config of another space that sets one is refused (:func:`check_space_options`)
    model_options: Mapping[str, object] = {}

    @classmethod
    def check_config(cls, cfg: dict, file: str) -> None:
        """Check the values of this space's own ``model_options`` in a resolved run config; one
        :class:`InputError` naming ``file`` and the key otherwise. The base has none to check."""

    @abc.abstractmethod
    def decode(self, code: str):
        """Parse ``code`` into a structured arch; :class:`InputError` when invalid."""

    @abc.abstractmethod
    def encode(self, arch) -> str:
        """Inverse of :meth:`decode`."""

    @abc.abstractmethod
    def sample_code(self, rng: np.random.Generator, distribution: str | None = None) -> str:
        """Draw one code from ``rng`` under ``distribution``."""

    @abc.abstractmethod
    def largest(self, distribution: str | None = None) -> str:
        """Code of the largest arch."""

    @abc.abstractmethod
    def smallest(self, distribution: str | None = None) -> str:
        """Code of the smallest arch."""

    @abc.abstractmethod
    def layer_specs(self, code: str, **variant) -> list[LayerSpec]:
        """The parameterised layers of the stand-alone network of ``code``."""

    def choices(self, distribution: str | None = None) -> list[Choice]:
        """The searchable decisions under ``distribution`` (see :class:`Choice`), in a fixed order."""
        raise InputError(f"space {self.name} does not describe its choices; it cannot be used with this sampler")

    def compose(self, values: dict[str, int], distribution: str | None = None) -> str:
        """The code holding ``values`` (choice name -> option); inverse of :meth:`choice_values`."""
        raise InputError(f"space {self.name} does not describe its choices; it cannot be used with this sampler")

    def choice_values(self, code: str, distribution: str | None = None) -> dict[str, int]:
        """Choice name -> the option ``code`` holds (choices of absent blocks are left out)."""
        raise InputError(f"space {self.name} does not describe its choices")

    def layer_group(self, layer_name: str) -> int | None:
        """Group of a :class:`LayerSpec` by name: 0 stem, s + 1 stage s, None the classifier."""
        if layer_name.startswith("stem."):
            return 0
        if layer_name.startswith("stages."):
            return int(layer_name.split(".")[1]) + 1
        return None

    #: number of stages (layer groups are the stem and the stages)
    num_stages: int = 0

    # ---- shared behaviour -------------------------------------------------
    def validate(self, code: str) -> None:
        """Raise :class:`InputError` naming the field, value and allowed set."""
        self.decode(code)

    def is_valid(self, code: str) -> bool:
        try:
            self.decode(code)
        except InputError:
            return False
        return True

    def sample(self, seed: int, epoch: int = 0, step: int = 0, k: int = 0, distribution: str | None = None) -> str:
        """One code drawn from the local RNG of (seed, epoch, step, k)."""
        return self.sample_code(local_rng(seed, epoch, step, k), distribution)

    def sample_unique(self, n: int, seed: int, distribution: str | None = None) -> list[str]:
        """``n`` distinct codes in draw order, reproducible from ``seed``."""
        if n < 1:
            raise InputError(f"number of archs must be at least 1, got {n}")
        rng = local_rng(seed)
        seen: dict[str, None] = {}
        attempts = 0
        while len(seen) < n:
            attempts += 1
            if attempts > 100 * n + 1000:
                raise InputError(f"could not draw {n} distinct archs from {self.name}")
            seen.setdefault(self.sample_code(rng, distribution), None)
        return list(seen)

    def sample_code_skewed(self, rng: np.random.Generator, level: float, distribution: str | None = None) -> str:
        """One code whose choices lean to the smallest (``level`` 0) or largest (1) end.

        Used by :meth:`sample_spread` with ``spacing="log"`` to reach the ends of
        the space, which uniform draws almost never visit. Spaces that do not
        offer it raise :class:`InputError`.
        """
        raise InputError(f"space {self.name} cannot draw archs toward a size; use spacing='quantile'")

    def sample_spread(self, n: int, seed: int, measure: str = "macs", pool_factor: int = 50,
                      distribution: str | None = None, spacing: str = "quantile") -> list[str]:
        """``n`` distinct codes spanning the range of ``measure`` (``macs`` or ``params``).

        ``spacing="quantile"``: draws ``pool_factor * n`` distinct codes uniformly,
        sorts them by the measure and keeps the ones at ``n`` evenly spaced
        quantiles, so the picks follow the space's own size distribution.
        ``spacing="log"``: picks the codes nearest to ``n`` targets evenly spaced
        in log(measure) from the space's smallest to its largest arch (both
        included), from a pool of ``pool_factor * n`` codes drawn at sizes
        leaning uniformly from small to large. Either way the result is in
        ascending order of the measure and reproducible from ``seed``.

        Example:
            >>> from paddle_supernet.spaces import get_space
            >>> space = get_space("cvpr21_resnet20")
            >>> codes = space.sample_spread(10, seed=0, spacing="log")
            >>> codes[0] == space.smallest() and codes[-1] == space.largest()
            True
        """
        if measure not in ("macs", "params"):
            raise InputError(f"unknown measure {measure!r}; choose macs or params")
        if spacing == "quantile":
            pool = sorted(self.sample_unique(n * pool_factor, seed, distribution), key=getattr(self, measure))
            picks = np.unique(np.round(np.linspace(0, len(pool) - 1, n)).astype(int))
            return [pool[i] for i in picks]
        if spacing != "log":
            raise InputError(f"unknown spacing {spacing!r}; choose quantile or log")
        if n < 2:
            raise InputError(f"spacing='log' needs at least 2 archs, got {n}")
        rng = local_rng(seed)
        ends = [self.smallest(distribution), self.largest(distribution)]
        pool = dict.fromkeys(ends + [self.sample_code_skewed(rng, float(rng.uniform()), distribution)
                                     for _ in range(n * pool_factor)])
        codes = list(pool)
        sizes = np.log([getattr(self, measure)(c) for c in codes])
        targets = np.linspace(sizes[0], sizes[1], n)
        taken = np.zeros(len(codes), dtype=bool)
        picks = []
        for target in targets:
            distance = np.where(taken, np.inf, np.abs(sizes - target))
            best = int(np.argmin(distance))
            taken[best] = True
            picks.append(best)
        return [codes[i] for i in sorted(picks, key=lambda i: (sizes[i], codes[i]))]

    def pick_spread(self, codes: Sequence[str], n: int, measure: str = "macs", **variant) -> list[int]:
        """Indices of ``n`` of ``codes`` at evenly spaced quantiles of ``measure`` (counted with
        ``variant``, e.g. the small-image ResNet48 actually trained), smallest and largest
        included; ties in size keep list order. Ascending in size.

        Example:
            >>> from paddle_supernet.spaces import get_space
            >>> space = get_space("cvpr21_resnet20")
            >>> codes = [space.largest(), space.smallest(), space.sample(0)]
            >>> space.pick_spread(codes, 2)
            [1, 0]
        """
        if measure not in ("macs", "params"):
            raise InputError(f"unknown measure {measure!r}; choose macs or params")
        if not 1 <= n <= len(codes):
            raise InputError(f"cannot pick {n} archs from a list of {len(codes)}")
        sizes = [getattr(self, measure)(code, **variant) for code in codes]
        order = sorted(range(len(codes)), key=lambda i: (sizes[i], i))
        picks = np.round(np.linspace(0, len(codes) - 1, n)).astype(int)
        return [order[i] for i in picks]

    def group_params(self, code: str, **variant) -> list[int]:
        """Parameters per layer group (stem, stage 1, ...; the classifier left out), as counted by
        :meth:`layer_specs`. Spaces may override it with a faster equivalent (CCFS scores hundreds of
        archs per step)."""
        totals = [0] * (self.num_stages + 1)
        for layer in self.layer_specs(code, **variant):
            group = self.layer_group(layer.name)
            if group is not None:
                totals[group] += layer.params
        return totals

    def params(self, code: str, **variant) -> int:
        """Trainable parameters of the stand-alone network (conv, BN affine, linear)."""
        return sum(layer.params for layer in self.layer_specs(code, **variant))

    def macs(self, code: str, **variant) -> int:
        """Multiply-accumulates of one forward pass (convolutions and the classifier)."""
        return sum(layer.macs for layer in self.layer_specs(code, **variant))

    def _check_distribution(self, distribution: str | None) -> str:
        if distribution is None:
            return self.distributions[0]
        if distribution not in self.distributions:
            raise InputError(
                f"unknown distribution {distribution!r} for space {self.name}; "
                f"choose one of {', '.join(self.distributions)}"
            )
        return distribution


def describe_allowed(values: Sequence[int]) -> str:
    """``[4, 8, 12]`` -> ``"{4, 8, 12}"`` for error messages."""
    return "{" + ", ".join(str(v) for v in values) + "}"
