"""Training strategies: what one optimisation step does (the loop does the rest).

A strategy takes its subnets from its sampler (:mod:`paddle_supernet.samplers`),
runs forward and backward (gradients accumulate across its subnets) and
returns scalars to log; the loop then takes one optimizer step.

Example:
    >>> strategy = build_strategy({"name": "distill", "k": 8, "alpha": 0.8}, space, seed=0)  # doctest: +SKIP
    >>> scalars = strategy.step(model, images, labels, epoch=0, step=0)                     # doctest: +SKIP
"""
from __future__ import annotations

from ..catalog import STRATEGY_DEFAULTS, strategy_defaults
from ..registry import Registry
from .base import TrainingStrategy
from .distill import DistillSandwich, TeacherKD
from .contrastive import MocoPretraining
from .plasticity import CandidatePlasticity
from .single import FixedArch, UniformSampling

STRATEGIES = Registry("strategy")
for _name, _cls in (("distill", DistillSandwich), ("kd", TeacherKD), ("uniform", UniformSampling), ("fixed", FixedArch),
                    ("cpt", CandidatePlasticity), ("moco", MocoPretraining)):
    STRATEGIES.register(_name)(_cls)


def register_strategy(name: str, **defaults):
    """Class decorator: a :class:`TrainingStrategy` of your own under ``name``, with its config keys
    and their defaults; a config names it in ``strategy.name`` and lists its module under
    ``custom_imports`` (``examples/smoothed_ce.py``).

    Example:
        >>> @register_strategy("smoothed_ce", k=1, smoothing=0.1)   # doctest: +SKIP
        ... class SmoothedCE(TrainingStrategy): ...
    """

    def decorate(cls: type) -> type:
        STRATEGIES.register(name)(cls)  # refuses a name taken by another class
        STRATEGY_DEFAULTS[name] = dict(defaults)
        cls.defaults = STRATEGY_DEFAULTS[name]
        return cls

    return decorate


def build_strategy(cfg: dict, space, seed: int, distribution: str | None = None, sampler=None) -> TrainingStrategy:
    """Instantiate the strategy named in ``cfg`` with its other keys as parameters; its subnets
    come from ``sampler`` (None: uniform draws of ``distribution``, the space's default when None)."""
    params = {**strategy_defaults(cfg.get("name")), **cfg}
    name = params.pop("name")
    strategy = STRATEGIES.get(name)(space, seed, **params)
    strategy.distribution = distribution
    strategy.sampler = sampler
    return strategy


__all__ = ["STRATEGIES", "TrainingStrategy", "build_strategy", "register_strategy", "strategy_defaults"]
