"""Is one ranker better than another on this benchmark? A paired bootstrap over archs, pooled over seeds.

A table row is a claim. For two rankers A and B (each one or more seeds' scores of the same
archs) and a ground truth, the difference of a metric (Kendall, Pearson beyond size, ...)
is computed on the benchmark's archs, then on ``resamples`` resamplings of the archs with
replacement, the same resampling for both rankers and every seed (paired); each ranker's
metric is its mean over its seeds. The percentile interval of the resampled differences
says what the benchmark separates: an interval that excludes 0 is a difference the archs
of this benchmark support at that level (seed noise of the rankers enters through the
seed mean; the ground truth's own noise is fixed, as it is for every row).

Example:
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.normal(size=60)
    >>> good, poor = [truth + rng.normal(0, .3, 60)], [truth + rng.normal(0, 3, 60)]
    >>> d = paired_difference(good, poor, truth, kendall, resamples=300)
    >>> d.low > 0 and d.separated
    True
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from scipy import stats

from .errors import InputError
from .metrics import partial_pearson
from .rng import local_rng

BOOTSTRAP_STREAM = 31


def kendall(scores: np.ndarray, truth: np.ndarray, covariates: np.ndarray | None = None) -> float:
    """Kendall tau-b (ties, e.g. archs drawn twice by a resampling, count as ties)."""
    return float(stats.kendalltau(scores, truth)[0])


def beyond_size(scores: np.ndarray, truth: np.ndarray, covariates: np.ndarray | None = None) -> float:
    """Pearson beyond size: the partial correlation with ``covariates`` (log params, log MACs) held fixed."""
    return partial_pearson(scores, truth, covariates)


def pearson(scores: np.ndarray, truth: np.ndarray, covariates: np.ndarray | None = None) -> float:
    """Pearson's correlation (the 2022 runner-up's paper reports it)."""
    return float(stats.pearsonr(scores, truth)[0])


METRICS: dict[str, Callable] = {"kendall": kendall, "pearson": pearson, "beyond_size": beyond_size}


@dataclass(frozen=True)
class Difference:
    """``estimate`` (A minus B on all archs, each a mean over its seeds) and its ``level`` interval."""

    estimate: float
    low: float
    high: float
    level: float

    @property
    def separated(self) -> bool:
        """True when the interval excludes 0."""
        return self.low > 0 or self.high < 0

    def __str__(self) -> str:
        return f"{self.estimate:+.3f} [{self.low:+.3f}, {self.high:+.3f}]"


def _seed_mean(metric: Callable, runs: np.ndarray, truth: np.ndarray, covariates, idx: np.ndarray) -> float:
    cov = None if covariates is None else covariates[idx]
    return float(np.mean([metric(run[idx], truth[idx], cov) for run in runs]))


def paired_difference(a: Sequence, b: Sequence, truth, metric: Callable, covariates=None, resamples: int = 2000,
                      level: float = 0.95, seed: int = 0) -> Difference:
    """The difference ``metric(A) - metric(B)`` against ``truth`` with its paired percentile bootstrap interval.

    ``a``, ``b``: one score vector per seed, aligned with ``truth`` (the rows may have different seed
    counts; ``b`` may be a single deterministic ranker such as a proxy); ``covariates`` ``(n, c)`` for
    metrics that need them (:func:`beyond_size`); ``seed``: the local RNG of the resamplings.
    """
    truth, (a, b), covariates = _inputs(truth, (a, b), covariates, level, resamples)
    n = len(truth)

    def difference(idx: np.ndarray) -> float:
        return _seed_mean(metric, a, truth, covariates, idx) - _seed_mean(metric, b, truth, covariates, idx)

    low, high = _percentile_interval(difference, n, resamples, level, seed)
    estimate = difference(np.arange(n))
    return Difference(float(estimate), float(low), float(high), level)


def metric_interval(a: Sequence, truth, metric: Callable = kendall, covariates=None, resamples: int = 2000,
                    level: float = 0.95, seed: int = 0) -> Difference:
    """One ranker's ``metric`` against ``truth`` (mean over its seeds) with its percentile bootstrap
    interval over archs: how far a figure from this few archs can be trusted on its own.

    Example:
        >>> truth = np.arange(30.0)
        >>> metric_interval([truth + np.random.default_rng(1).normal(0, 5, 30)], truth, resamples=300).low > 0
        True
    """
    truth, (a,), covariates = _inputs(truth, (a,), covariates, level, resamples)
    n = len(truth)

    def value(idx: np.ndarray) -> float:
        return _seed_mean(metric, a, truth, covariates, idx)

    low, high = _percentile_interval(value, n, resamples, level, seed)
    return Difference(value(np.arange(n)), low, high, level)


def _inputs(truth, rankers: tuple, covariates, level: float, resamples: int) -> tuple:
    """The ground truth, each ranker as a (seeds, archs) array and the covariates as (archs, c), checked."""
    truth = np.asarray(truth, float)
    n = len(truth)
    runs = tuple(np.atleast_2d(np.asarray(r, float)) for r in rankers)
    if any(r.shape[1] != n for r in runs):
        raise InputError(f"every score vector must have the ground truth's {n} archs, got "
                         + " and ".join(str(r.shape[1]) for r in runs))
    if n < 5:
        raise InputError(f"a bootstrap over archs needs at least 5 archs, got {n}")
    if not 0 < level < 1 or resamples < 100:
        raise InputError(f"need 0 < level < 1 and at least 100 resamples, got {level} and {resamples}")
    return truth, runs, None if covariates is None else np.asarray(covariates, float).reshape(n, -1)


def _percentile_interval(statistic: Callable, n: int, resamples: int, level: float, seed: int) -> tuple[float, float]:
    """The ``level`` percentile interval of ``statistic(idx)`` over ``resamples`` resamplings of ``n`` archs
    with replacement, drawn from the bootstrap's local RNG stream; resamplings where the statistic is
    undefined (all tied) are left out."""
    rng = local_rng(seed, stream=BOOTSTRAP_STREAM)
    values = np.array([statistic(rng.integers(0, n, size=n)) for _ in range(resamples)])
    tail = (1 - level) / 2
    low, high = np.nanquantile(values, [tail, 1 - tail])
    return float(low), float(high)
