"""Training strategies: what one optimisation step does (the loop does the rest).

A strategy samples its subnets from the local RNG of (seed, epoch, step, k),
runs forward and backward (gradients accumulate across its subnets) and
returns scalars to log; the loop then takes one optimizer step.

Example:
    >>> strategy = build_strategy({"name": "distill", "k": 8, "alpha": 0.8}, space, seed=0)  # doctest: +SKIP
    >>> scalars = strategy.step(model, images, labels, epoch=0, step=0)                     # doctest: +SKIP
"""
from __future__ import annotations

from ..errors import InputError
from .base import TrainingStrategy
from .distill import DistillSandwich
from .single import FixedArch, UniformSampling

STRATEGIES: dict[str, type] = {"distill": DistillSandwich, "uniform": UniformSampling, "fixed": FixedArch}


def strategy_defaults(name: str | None, file: str | None = None) -> dict:
    """``{"name": name, **defaults}`` of a registered strategy."""
    if name not in STRATEGIES:
        raise InputError(f"unknown strategy {name!r}; choose one of {', '.join(sorted(STRATEGIES))}", file=file, key="strategy.name")
    return {"name": name, **STRATEGIES[name].defaults}


def build_strategy(cfg: dict, space, seed: int) -> TrainingStrategy:
    """Instantiate the strategy named in ``cfg`` with its other keys as parameters."""
    params = {**strategy_defaults(cfg.get("name")), **cfg}
    name = params.pop("name")
    return STRATEGIES[name](space, seed, **params)


__all__ = ["STRATEGIES", "TrainingStrategy", "build_strategy", "strategy_defaults"]
