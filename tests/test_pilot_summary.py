"""tools/pilot_summary.py: a recipe's line checked against scipy on a small synthetic log."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from conftest import load_tool

from paddle_supernet.spaces import get_space

REPO = Path(__file__).resolve().parents[1]


def _tool():
    return load_tool("pilot_summary")


def test_a_recipe_line_matches_an_independent_computation(tmp_path):
    tool = _tool()
    space = get_space("cvpr22_resnet48")
    codes = space.sample_unique(8, seed=5)
    rng = np.random.default_rng(0)
    folder = tmp_path / "pilot" / "r"
    folder.mkdir(parents=True)
    shutil.copy(REPO / "benchmarks" / "pilot-r48-size" / "ref" / "recipe.yaml", folder / "recipe.yaml")
    acc = {(k, s): float(rng.uniform(0.8, 0.9)) for k in range(8) for s in (0, 1)}
    lines = [json.dumps({"key": f"arch{k + 1}", "arch": codes[k], "seed": s, "acc": acc[(k, s)], "seconds": 10.0 + k})
             for k in range(8) for s in (0, 1)]
    (folder / "gt.runs.jsonl").write_text("\n".join(lines[:-1]) + "\n")  # the last arch has one seed only
    imagenet = {"arch2": {"arch": codes[1], "acc": 70.0}, "arch3": {"arch": codes[2], "acc": 71.0},
                "arch4": {"arch": codes[3], "acc": 69.0}, "arch5": {"arch": codes[4], "acc": 72.0},
                "arch6": {"arch": codes[5], "acc": 68.0}, "arch7": {"arch": codes[0], "acc": 75.0}}  # another code

    reference = {(f"arch{k + 1}", s): 5.0 for k in range(8) for s in (0, 1)}  # half of every run's 10 + k seconds
    reference[("arch1", 0)] = 1.0
    out = tool.summarise(folder, imagenet, reference)
    ratios = [(10.0 + k) / reference[(f"arch{k + 1}", s)] for k in range(8) for s in (0, 1)][:-1]
    assert out["cost_ratio"] == pytest.approx(float(np.median(ratios)))
    mean = np.array([(acc[(k, 0)] + acc[(k, 1)]) / 2 for k in range(7)])
    depth = [sum(space.decode(c).depths) for c in codes[:7]]
    last = [space.decode(c).depths[-1] for c in codes[:7]]
    assert (out["runs"], out["archs"]) == (15, 7)
    assert out["kendall_depth"] == pytest.approx(stats.kendalltau(mean, depth)[0])
    assert out["kendall_last"] == pytest.approx(stats.kendalltau(mean, last)[0])
    assert out["imagenet_archs"] == 5  # arch7's code is not the log's: left out
    assert out["kendall_imagenet"].estimate == pytest.approx(
        stats.kendalltau(mean[1:6], [70.0, 71.0, 69.0, 72.0, 68.0])[0])
    line = tool.markdown([out]).splitlines()[-1]
    assert line.startswith(f"| r | 15 | 7 | {out['seconds']:.0f} | {out['cost_ratio']:.2f} |")
    assert f"{out['kendall_last']:+.2f}" in line
