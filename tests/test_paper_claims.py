import numpy as np
import pytest
from scipy import stats

from paddle_supernet.io.challenge_json import ArchEntry, read_arch_file, write_arch_file
from paddle_supernet.paper_claims import PaperClaim, claims_markdown, verdict

CODES = [f"{a}{b}{c}" for a in "123" for b in "123" for c in "123"][:24]


def _write(path, keys, values, codes=CODES):
    write_arch_file(path, {key: ArchEntry(codes[i], float(v)) for i, (key, v) in enumerate(zip(keys, values))})
    return str(path)


@pytest.fixture
def rows(tmp_path):
    """A truth over 24 archs; "good" and "same" track it closely, "poor" loosely; two seeds each."""
    rng = np.random.default_rng(4)
    keys = [f"arch{i + 1}" for i in range(len(CODES))]
    truth = rng.normal(size=len(keys))
    gt = _write(tmp_path / "gt.json", keys, truth)
    out = {}
    for label, noise in (("good", 0.2), ("poor", 3.0), ("same", 0.2)):
        out[label] = [_write(tmp_path / f"{label}{s}.json", keys, truth + rng.normal(0, noise, len(keys)))
                      for s in (0, 1)]
    return gt, keys, truth, out


def test_each_claim_is_checked_on_the_papers_metric_with_a_paired_bootstrap(rows, tmp_path):
    from paddle_supernet.bootstrap import paired_difference, pearson

    gt, keys, truth, subs = rows
    claims = [PaperClaim("good", "poor", "pearson", (0.85, 0.80), "Table 9"),
              PaperClaim("poor", "good", "kendall", (0.9, 0.8), "Table 9"),
              PaperClaim("good", "same", "kendall", (0.9, 0.8), "Table 9"),
              PaperClaim("good", "absent", "kendall", (0.9, 0.8), "Table 9")]
    half = _write(tmp_path / "half.json", keys[:12], truth[:12])  # a second truth over half the archs
    table = claims_markdown(claims, subs, [("gt", gt), ("half", half)], resamples=300).splitlines()
    assert table[0] == ("| the paper's ordering | the paper | better - worse on gt [95%] | verdict | "
                        "better - worse on half [95%] | verdict |")

    def scores(label):
        return [np.array([read_arch_file(path)[key].acc for key in keys]) for path in subs[label]]

    # independent: the same paired bootstrap on arrays read here, and Pearson from scipy
    expected = paired_difference(scores("good"), scores("poor"), truth, pearson, resamples=300)
    own = np.mean([stats.pearsonr(s, truth)[0] for s in scores("good")]) - \
        np.mean([stats.pearsonr(s, truth)[0] for s in scores("poor")])
    assert expected.estimate == pytest.approx(own)
    assert table[2].startswith("| good > poor | Pearson 0.85 vs 0.8 (Table 9) | " + str(expected) + " | **reproduced** |")
    assert "| poor > good |" in table[3] and table[3].count("**reversed**") == 2
    assert "not separated" in table[4]
    assert table[5] == "| good > absent | Kendall 0.9 vs 0.8 (Table 9) | - | pending | - | pending |"


def test_verdicts_and_a_bad_claim():
    from paddle_supernet.bootstrap import Difference

    assert verdict(Difference(0.1, 0.02, 0.2, 0.95)) == "**reproduced**"
    assert verdict(Difference(-0.1, -0.2, -0.01, 0.95)) == "**reversed**"
    assert verdict(Difference(0.01, -0.02, 0.05, 0.95)) == "not separated (same sign)"
    assert verdict(Difference(-0.01, -0.05, 0.02, 0.95)) == "not separated (opposite sign)"
    with pytest.raises(ValueError, match="metric is one of pearson, kendall"):
        PaperClaim("a", "b", "spearman", (0.9, 0.8), "Table 1")


def test_a_submission_missing_an_arch_of_the_truth_is_one_clear_error(rows, tmp_path):
    from paddle_supernet.errors import InputError

    gt, keys, truth, subs = rows
    short = _write(tmp_path / "short.json", keys[:20], truth[:20])
    with pytest.raises(InputError, match=r"short.json: arch21: scores 20 of the ground truth's 24 archs"):
        claims_markdown([PaperClaim("good", "short", "kendall", (0.9, 0.8), "T")], {**subs, "short": [short]},
                        [("gt", gt)], resamples=50)


@pytest.mark.parametrize("tool", ["cvpr21_tables", "cvpr22_tables"])
def test_the_table_tools_claims_name_rows_of_their_groups(tool):
    from conftest import load_tool

    module = load_tool(tool)
    assert set(module.CLAIMS) <= set(module.GROUPS)
    for group, claims in module.CLAIMS.items():
        labels = {row.label for row in module.GROUPS[group]}
        for claim in claims:
            assert {claim.better, claim.worse} <= labels, (group, claim)
            assert claim.paper[0] > claim.paper[1]  # the paper reports the better row higher
