"""The committed fmnist-r20 benchmark is what its own commands produce, and consistent with itself."""
import json
from pathlib import Path

import numpy as np
import pytest

from paddle_supernet.io.challenge_json import arch_list_from_codes, read_arch_file, write_arch_file
from paddle_supernet.spaces import get_space

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "fmnist-r20"


def test_arch_list_regenerates_byte_for_byte(tmp_path):
    # the command in regenerate.sh: sample --n 100 --seed 2021 --spread macs --spacing log
    space = get_space("cvpr21_resnet20")
    codes = space.sample_spread(100, seed=2021, measure="macs", spacing="log")
    write_arch_file(tmp_path / "archs.json", arch_list_from_codes(codes, space.placeholder_acc))
    assert (tmp_path / "archs.json").read_bytes() == (BENCH / "archs.json").read_bytes()


R48 = BENCH.parent / "fmnist-r48"


def test_fmnist_r48_arch_list_regenerates_byte_for_byte(tmp_path, cvpr22_archs):
    # the command in fmnist-r48/regenerate.sh: sample --from TEST_LIST --n 100 --spread macs
    # --small-input --width-scale 0.125 --image-size 16
    space = get_space("cvpr22_resnet48")
    source = read_arch_file(cvpr22_archs, space)
    keys = list(source)
    picks = space.pick_spread([source[k].arch for k in keys], 100, "macs", small_input=True, width_scale=0.125,
                              image_size=16)
    write_arch_file(tmp_path / "archs.json", {keys[i]: source[keys[i]] for i in picks})
    assert (tmp_path / "archs.json").read_bytes() == (R48 / "archs.json").read_bytes()
    committed = read_arch_file(R48 / "archs.json")
    assert all(committed[k].arch == source[k].arch for k in committed)  # keys and codes as in the test list


#: every benchmark folder with an arch list and a stand-alone runs log (a new benchmark is checked as it lands)
GROUND_TRUTHS = sorted(p.parent for p in BENCH.parent.glob("*/gt.runs.jsonl") if (p.parent / "archs.json").exists())


def test_the_two_benchmarks_are_among_the_checked_ground_truths():
    assert {BENCH, R48} <= set(GROUND_TRUTHS)


@pytest.mark.parametrize("bench", GROUND_TRUTHS, ids=lambda p: p.name)
def test_ground_truth_is_the_mean_of_the_seed_runs_in_the_log(bench):
    if not (bench / "gt.json").exists():
        pytest.skip(f"{bench.name} ground truth not complete yet ({bench.name}/regenerate.sh)")
    archs = read_arch_file(bench / "archs.json")
    runs = [json.loads(line) for line in (bench / "gt.runs.jsonl").read_text().splitlines()]
    by_seed = {(r["key"], r["seed"]): r for r in runs}
    seeds = sorted({seed for _, seed in by_seed})
    assert sorted(by_seed) == sorted((key, seed) for key in archs for seed in seeds)
    gt = read_arch_file(bench / "gt.json")
    for seed in seeds:
        per_seed = read_arch_file(bench / f"gt.seed{seed}.json")
        assert {k: (e.arch, e.acc) for k, e in per_seed.items()} == \
            {k: (archs[k].arch, by_seed[(k, seed)]["acc"]) for k in archs}
    for key, entry in gt.items():
        assert entry.arch == archs[key].arch
        assert entry.acc == pytest.approx(np.mean([by_seed[(key, s)]["acc"] for s in seeds]), abs=1e-12)


@pytest.mark.parametrize("folder", sorted(p.parent for p in BENCH.parent.glob("*/tables.yaml")),
                         ids=lambda p: p.name)
def test_table_settings_read_and_score_their_own_archs(folder):
    from paddle_supernet.engine.config import load_config
    from paddle_supernet.tables import read_table_bench

    bench = read_table_bench(folder)
    # the chains score the benchmark's own arch list: the twins' default, or the folder's override
    archs = load_config(BENCH.parents[1] / "configs/cvpr22/fmnist/scale.yaml", list(bench.overrides))["eval"]["archs"]
    assert Path(archs) == Path("benchmarks") / folder.name / "archs.json"
