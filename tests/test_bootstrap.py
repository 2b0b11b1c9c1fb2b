"""The paired bootstrap over archs: against scipy's own paired percentile bootstrap, exact cases, bad input."""
import numpy as np
import pytest
from scipy import stats

from paddle_supernet.bootstrap import beyond_size, kendall, metric_interval, paired_difference
from paddle_supernet.errors import InputError


def test_interval_agrees_with_scipys_paired_percentile_bootstrap():
    rng = np.random.default_rng(3)
    truth = rng.normal(size=30)
    a = np.stack([truth + rng.normal(0, 0.8, 30) for _ in range(2)])
    b = np.stack([truth + rng.normal(0, 1.5, 30) for _ in range(2)])

    def statistic(idx):  # the same claim written directly: seed-mean Kendall of A minus that of B
        idx = idx.astype(int)
        return (np.mean([stats.kendalltau(s[idx], truth[idx])[0] for s in a])
                - np.mean([stats.kendalltau(s[idx], truth[idx])[0] for s in b]))

    ref = stats.bootstrap((np.arange(30.0),), statistic, vectorized=False, n_resamples=3000, method="percentile",
                          confidence_level=0.95, random_state=np.random.default_rng(0)).confidence_interval
    ours = paired_difference(a, b, truth, kendall, resamples=3000)
    assert ours.estimate == pytest.approx(statistic(np.arange(30.0)))
    assert ours.low == pytest.approx(ref.low, abs=0.03) and ours.high == pytest.approx(ref.high, abs=0.03)


def test_exact_cases_identical_and_reversed_rankers():
    truth = np.arange(12.0)
    same = paired_difference([truth * 2], [truth + 1], truth, kendall, resamples=200)
    assert (same.estimate, same.low, same.high) == pytest.approx((0.0, 0.0, 0.0)) and not same.separated
    opposite = paired_difference([truth], [-truth], truth, kendall, resamples=200)  # tau-b 1 and -1, ties included
    assert (opposite.estimate, opposite.low, opposite.high) == pytest.approx((2.0, 2.0, 2.0)) and opposite.separated
    assert str(opposite) == "+2.000 [+2.000, +2.000]"


def test_beyond_size_needs_its_covariates_and_bad_input_is_refused():
    rng = np.random.default_rng(0)
    size = rng.normal(size=40)
    truth = size + rng.normal(0, 0.5, 40)
    proxy = paired_difference([size], [size + rng.normal(0, 0.01, 40)], truth, beyond_size, size[:, None], resamples=200)
    assert abs(proxy.estimate) < 0.3  # a size proxy has nothing beyond size either way
    with pytest.raises(InputError, match="ground truth's 40 archs"):
        paired_difference([truth[:30]], [truth], truth, kendall)
    with pytest.raises(InputError, match="at least 5 archs"):
        paired_difference([truth[:4]], [truth[:4]], truth[:4], kendall)
    with pytest.raises(InputError, match="at least 100 resamples"):
        paired_difference([truth], [truth], truth, kendall, resamples=10)


def test_one_rankers_interval_agrees_with_scipys_percentile_bootstrap():
    rng = np.random.default_rng(4)
    truth = rng.normal(size=14)
    runs = np.stack([truth + rng.normal(0, 1.0, 14) for _ in range(2)])

    def statistic(idx):  # the seed-mean Kendall on the resampled archs, written directly
        idx = idx.astype(int)
        return np.mean([stats.kendalltau(s[idx], truth[idx])[0] for s in runs])

    ref = stats.bootstrap((np.arange(14.0),), statistic, vectorized=False, n_resamples=3000, method="percentile",
                          confidence_level=0.95, random_state=np.random.default_rng(0)).confidence_interval
    ours = metric_interval(runs, truth, resamples=3000)
    assert ours.estimate == pytest.approx(statistic(np.arange(14.0)))
    assert ours.low == pytest.approx(ref.low, abs=0.05) and ours.high == pytest.approx(ref.high, abs=0.05)
    with pytest.raises(InputError, match="ground truth's 14 archs"):
        metric_interval([truth[:10]], truth)
