"""Names and default parameters of the training strategies, in pure Python.

Config validation reads this before Paddle is imported, so a config error is
reported at once; the strategy classes (:mod:`paddle_supernet.strategies`) take
their ``defaults`` from here.

Example:
    >>> strategy_defaults("uniform")
    {'name': 'uniform', 'k': 1, 'reduce': 'mean'}
"""
from __future__ import annotations

from .errors import InputError

STRATEGY_DEFAULTS: dict[str, dict] = {
    # 2021 Algorithm 1 (+ the released look / max-recover step when look > 0)
    "distill": {"k": 8, "alpha": 0.8, "reduce": "sum", "teacher_ce": True, "teacher": "largest",
                "teacher_weights": None, "look": 0, "max_recover": 5},
    # the 2022 official baseline: CE + soft-label CE to a frozen external teacher
    "kd": {"k": 2, "ce_weight": 1.0, "kd_weight": 1.0, "temperature": 1.0, "reduce": "sum",
           "teacher": "external", "teacher_weights": None},
    "uniform": {"k": 1, "reduce": "mean"},
    "fixed": {"arch": "largest"},
}


def strategy_defaults(name: str | None, file: str | None = None) -> dict:
    """``{"name": name, **defaults}`` of a known strategy; :class:`InputError` for an unknown name."""
    if name not in STRATEGY_DEFAULTS:
        raise InputError(f"unknown strategy {name!r}; known: {', '.join(sorted(STRATEGY_DEFAULTS))}", file=file,
                         key="strategy.name")
    return {"name": name, **STRATEGY_DEFAULTS[name]}
