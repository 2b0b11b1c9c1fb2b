"""Seed noise of a stand-alone ground truth: how well can any ranking agree with it?

From two or more seeds' accuracies of the same archs: the per-run seed noise
``sigma_seed`` (std of one run around its arch's mean, once each seed's overall
offset is removed: the residual of the two-way arch x seed table), the spread of
the archs' true accuracies ``sigma_arch`` (variance of the seeds' mean minus its
noise share), the seed-to-seed Kendall and Pearson (averaged over the pairs of
seeds), and ``mean_reliability``: the share of the n-seed mean's variance that is
true arch differences (Spearman-Brown), i.e. the squared correlation one can expect
between the ground truth and the truth. ``perfect_ranker_kendall`` turns it into the Kendall a
ranker that knew the true accuracies would reach against the ground truth (Greiner's relation
for normal noise): the ceiling of every row scored on it.

A ground truth still being trained is measured from its runs log
(:func:`seeds_from_runs`: the archs every seed has finished). With few archs or seeds
the ceiling is itself uncertain: :func:`noise_ceiling_interval` gives its 95% bootstrap
interval over archs, and :func:`noise_summary` both.

Example:
    >>> seed_noise([0.80, 0.82, 0.85, 0.90], [0.81, 0.82, 0.86, 0.89])["kendall"]  # doctest: +SKIP
    1.0
"""
from __future__ import annotations

from itertools import combinations

import numpy as np
from scipy import stats

from .errors import InputError


def _components(table: np.ndarray) -> tuple[float, float, float]:
    """(sigma_seed, sigma_arch, reliability of the seeds' mean) of an archs x seeds table."""
    n_archs, n_seeds = table.shape
    residual = table - table.mean(1, keepdims=True) - table.mean(0, keepdims=True) + table.mean()
    sigma_seed = float(np.sqrt((residual ** 2).sum() / ((n_archs - 1) * (n_seeds - 1))))
    sigma_arch = float(np.sqrt(max(np.var(table.mean(1), ddof=1) - sigma_seed ** 2 / n_seeds, 0.0)))
    rho = sigma_arch ** 2 / (sigma_arch ** 2 + sigma_seed ** 2) if sigma_arch + sigma_seed > 0 else 0.0
    return sigma_seed, sigma_arch, float(n_seeds * rho / (1 + (n_seeds - 1) * rho))


def _ceiling(reliability: float) -> float:
    """Greiner's relation: the Kendall of a correlation whose square is ``reliability``."""
    return float(2 / np.pi * np.arcsin(np.sqrt(reliability)))


def seed_noise(*seeds) -> dict:
    """Noise components and seed-to-seed agreement of n >= 2 seeds' accuracies (same arch order)."""
    table = np.asarray(seeds, float).T  # archs x seeds
    n_archs, n_seeds = table.shape
    if n_seeds < 2 or n_archs < 3:
        raise ValueError(f"need at least 2 seeds of at least 3 archs, got {n_seeds} of {n_archs}")
    sigma_seed, sigma_arch, reliability = _components(table)
    pairs = list(combinations(range(n_seeds), 2))
    return {"n": n_archs, "seeds": n_seeds,
            "kendall": float(np.mean([stats.kendalltau(table[:, i], table[:, j])[0] for i, j in pairs])),
            "pearson": float(np.mean([stats.pearsonr(table[:, i], table[:, j])[0] for i, j in pairs])),
            "sigma_seed": sigma_seed, "sigma_arch": sigma_arch,
            "mean_abs_diff": float(np.mean([np.mean(np.abs(table[:, i] - table[:, j])) for i, j in pairs])),
            "mean_reliability": reliability,
            "perfect_ranker_kendall": _ceiling(reliability)}


def noise_ceiling_interval(*seeds, resamples: int = 1000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """The ``level`` percentile interval of ``perfect_ranker_kendall`` (:func:`seed_noise`) over ``resamples``
    bootstrap resamplings of the archs (the same archs drawn for every seed), from a local RNG seeded by
    ``seed``: how far the noise ceiling itself can be trusted.

    >>> noise_ceiling_interval([0.80, 0.82, 0.85, 0.90, 0.87], [0.81, 0.82, 0.86, 0.89, 0.85])  # doctest: +SKIP
    (0.77, 1.0)
    """
    table = np.asarray(seeds, float).T  # archs x seeds
    n_archs = table.shape[0]
    rng = np.random.default_rng(seed)
    values = [_ceiling(_components(table[rng.integers(0, n_archs, n_archs)])[2]) for _ in range(resamples)]
    low, high = np.percentile(values, [50 * (1 - level), 50 * (1 + level)])
    return float(low), float(high)


def noise_summary(*seeds, resamples: int = 1000) -> dict:
    """:func:`seed_noise` plus ``perfect_ranker_kendall_95``, the ceiling's 95% interval
    (:func:`noise_ceiling_interval`): what ``paddle-supernet noise`` prints and the reports state."""
    interval = noise_ceiling_interval(*seeds, resamples=resamples)
    return {**seed_noise(*seeds), "perfect_ranker_kendall_95": list(interval)}


def seeds_from_runs(rows: list[dict], source: str | None = None) -> tuple[list[str], dict[int, list[float]]]:
    """The archs a stand-alone runs log (``<gt>.runs.jsonl``) holds for every seed it names, in the log's
    order, and each seed's accuracies of them: the input of :func:`seed_noise` while a ground truth is
    still being trained. :class:`InputError` (naming ``source`` and the line) on a row without its
    fields, an arch whose code changes, or a run given twice.

    >>> rows = [{"key": k, "arch": "c" + k, "seed": s, "acc": a} for k, s, a in
    ...         [("a1", 0, .8), ("a1", 1, .81), ("a2", 0, .7), ("a2", 1, .72), ("a3", 0, .9)]]
    >>> seeds_from_runs(rows)
    (['a1', 'a2'], {0: [0.8, 0.7], 1: [0.81, 0.72]})
    """
    accs: dict[str, dict[int, float]] = {}
    codes: dict[str, str] = {}
    for number, row in enumerate(rows, start=1):
        missing = [field for field in ("key", "arch", "seed", "acc") if field not in row]
        if missing:
            raise InputError(f"line {number}: a run without {', '.join(missing)}: not a stand-alone runs log?",
                             file=source)
        try:
            key, seed, acc = str(row["key"]), int(row["seed"]), float(row["acc"])
        except (TypeError, ValueError):
            raise InputError(f"line {number}: seed {row['seed']!r} or acc {row['acc']!r} is not a number",
                             file=source) from None
        if codes.setdefault(key, row["arch"]) != row["arch"]:
            raise InputError(f"line {number}: {key} has another arch code than on an earlier line", file=source)
        if seed in accs.setdefault(key, {}):
            raise InputError(f"line {number}: {key}, seed {seed} is run twice", file=source)
        accs[key][seed] = acc
    seeds = sorted({seed for runs in accs.values() for seed in runs})
    keys = [key for key, runs in accs.items() if len(runs) == len(seeds)]
    return keys, {seed: [accs[key][seed] for key in keys] for seed in seeds}
