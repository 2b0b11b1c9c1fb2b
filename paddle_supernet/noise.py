"""Seed noise of a stand-alone ground truth: how well can any ranking agree with it?

From two seeds' accuracies of the same archs: the per-run seed noise
``sigma_seed`` (std of one run around its arch's mean, from the seed
differences), the spread of the archs' true accuracies ``sigma_arch``
(variance of the 2-seed mean minus its noise share), and the measured
seed-to-seed Kendall and Pearson.

Example:
    >>> seed_noise([0.80, 0.82, 0.85, 0.90], [0.81, 0.82, 0.86, 0.89])["kendall"]  # doctest: +SKIP
    1.0
"""
from __future__ import annotations

import numpy as np
from scipy import stats


def seed_noise(seed_a, seed_b) -> dict:
    """Noise components and seed-to-seed agreement of two seeds' accuracies (same arch order)."""
    a, b = np.asarray(seed_a, float), np.asarray(seed_b, float)
    sigma_seed = float(np.std(a - b, ddof=1) / np.sqrt(2))
    mean = (a + b) / 2
    sigma_arch = float(np.sqrt(max(np.var(mean, ddof=1) - sigma_seed ** 2 / 2, 0.0)))
    return {"n": len(a), "kendall": float(stats.kendalltau(a, b)[0]), "pearson": float(stats.pearsonr(a, b)[0]),
            "sigma_seed": sigma_seed, "sigma_arch": sigma_arch, "mean_abs_diff": float(np.mean(np.abs(a - b)))}
