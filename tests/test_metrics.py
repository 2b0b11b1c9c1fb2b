import itertools

import numpy as np
import pytest

from paddle_supernet.errors import InputError
from paddle_supernet.io.challenge_json import ArchEntry
from paddle_supernet.metrics import format_metrics_table, partial_pearson, ranking_metrics, top_k_overlap


def _kendall_by_pairs(x, y):
    concordant = discordant = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        s = np.sign(x[i] - x[j]) * np.sign(y[i] - y[j])
        concordant += s > 0
        discordant += s < 0
    return (concordant - discordant) / (len(x) * (len(x) - 1) / 2)


def _as_entries(values, codes=None):
    return {f"arch{i + 1}": ArchEntry(codes[i] if codes else f"c{i}", float(v)) for i, v in enumerate(values)}


def test_metrics_against_independent_computation():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=60)
    pred = truth + rng.normal(scale=0.7, size=60)
    m = ranking_metrics(_as_entries(pred), _as_entries(truth))
    assert m["n"] == 60
    assert m["kendall"] == pytest.approx(_kendall_by_pairs(pred, truth), abs=1e-12)
    assert m["pearson"] == pytest.approx(np.corrcoef(pred, truth)[0, 1], abs=1e-12)
    ranks = lambda v: np.argsort(np.argsort(v))
    assert m["spearman"] == pytest.approx(np.corrcoef(ranks(pred), ranks(truth))[0, 1], abs=1e-12)
    k = 6
    expected = len(set(np.argsort(-truth)[:k]) & set(np.argsort(-pred)[:k])) / k
    assert m["top10_overlap"] == pytest.approx(expected)


def test_top_k_overlap_hand_case():
    truth = np.arange(20.0)                      # top 2: indices 19, 18
    pred = np.array([0.0] * 18 + [5.0, -1.0])    # top 2: index 18 then index 0
    assert top_k_overlap(pred, truth) == 0.5


def test_common_keys_only_and_code_mismatch_refused():
    gt = _as_entries([1, 2, 3, 4])
    sub = {k: v for k, v in _as_entries([1, 2, 3, 4, 5]).items()}
    assert ranking_metrics(sub, gt)["n"] == 4
    sub["arch2"] = ArchEntry("other", 2.0)
    with pytest.raises(InputError, match="arch2: arch code differs"):
        ranking_metrics(sub, gt)
    with pytest.raises(InputError, match="share 2 keys"):
        ranking_metrics(_as_entries([1, 2]), gt)


def test_partial_pearson_matches_the_textbook_formula_for_one_covariate():
    rng = np.random.default_rng(4)
    z = rng.normal(size=40)
    x, y = z + rng.normal(size=40), 2 * z + rng.normal(size=40)
    r = np.corrcoef([x, y, z])
    expected = (r[0, 1] - r[0, 2] * r[1, 2]) / np.sqrt((1 - r[0, 2] ** 2) * (1 - r[1, 2] ** 2))
    assert partial_pearson(x, y, z[:, None]) == pytest.approx(expected, abs=1e-12)


def test_partial_pearson_of_a_pure_covariate_proxy_is_zero():
    rng = np.random.default_rng(5)
    size = rng.normal(size=(30, 2))
    truth = size @ [1.0, 0.5] + rng.normal(0, 0.1, 30)
    assert partial_pearson(size @ [3.0, -1.0] + 7, truth, size) == 0.0
    with pytest.raises(InputError, match="more than 4 archs"):
        partial_pearson([1, 2, 3, 4], [1, 2, 3, 4], np.zeros((4, 2)))


def test_metrics_table_adds_the_beyond_size_column_only_when_present():
    row = {"n": 5, "kendall": 0.5, "pearson": 0.6, "spearman": 0.7, "top10_overlap": 1.0}
    assert "beyond size" not in format_metrics_table({"a": row})
    table = format_metrics_table({"a": {**row, "beyond_size": 0.25}, "b": row})
    assert "| a | 5 | 0.5000 | 0.6000 | 0.7000 | 1.000 | 0.2500 |" in table and table.endswith("| 1.000 | - |")


def test_constant_scores_are_refused_not_nan(tmp_path):
    import json as _json

    from paddle_supernet.cli import main

    codes = ["16-" * 19 + "16", "4-" * 19 + "4", "8-" * 19 + "8"]
    gt = {f"arch{i + 1}": {"acc": 0.1 * (i + 1), "arch": c} for i, c in enumerate(codes)}
    flat = {f"arch{i + 1}": {"acc": 0, "arch": c} for i, c in enumerate(codes)}
    (tmp_path / "gt.json").write_text(_json.dumps(gt))
    (tmp_path / "list.json").write_text(_json.dumps(flat))
    assert main(["score", "--submission", str(tmp_path / "list.json"), "--gt", str(tmp_path / "gt.json"), "--json"]) == 2
