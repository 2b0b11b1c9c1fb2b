"""The committed benchmarks are what their own commands produce, and consistent with themselves."""
import json
from pathlib import Path

import numpy as np
import pytest

from paddle_supernet.io.challenge_json import read_arch_file

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "fmnist-r20"
R48 = BENCH.parent / "fmnist-r48"


#: every benchmark folder with an arch list and a stand-alone runs log (a new benchmark is checked as it lands)
GROUND_TRUTHS = sorted(p.parent for p in BENCH.parent.glob("*/gt.runs.jsonl") if (p.parent / "archs.json").exists())


def test_the_three_benchmarks_are_among_the_checked_ground_truths():
    assert {BENCH, R48, BENCH.parent / "fmnist32-r48"} <= set(GROUND_TRUTHS)


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
    from paddle_supernet.table_bench import read_table_bench

    bench = read_table_bench(folder)
    # the chains score the benchmark's own arch list: the twins' default, or the folder's override
    archs = load_config(BENCH.parents[1] / "configs/cvpr22/fmnist/scale.yaml", list(bench.overrides))["eval"]["archs"]
    assert Path(archs) == Path("benchmarks") / folder.name / "archs.json"
    second = bench.second_truth and folder / bench.second_truth["path"]
    if second and second.exists():  # its archs are the benchmark's own, under the same keys
        from paddle_supernet.io.challenge_json import read_arch_file

        own = read_arch_file(folder / "archs.json")
        assert {k: e.arch for k, e in read_arch_file(second).items()}.items() <= {k: e.arch for k, e in own.items()}.items()


def _sample_command(script: Path) -> list[str]:
    """The arguments of the ``paddle_supernet sample`` command a regenerate.sh runs (continuation lines joined)."""
    import shlex

    text = script.read_text().replace("\\\n", " ")
    line = next(line for line in text.splitlines() if "paddle_supernet sample" in line)
    words = shlex.split(line)
    return words[words.index("sample"):]


@pytest.mark.parametrize("folder", sorted(p.parent for p in BENCH.parent.glob("*/regenerate.sh")), ids=lambda p: p.name)
def test_the_regenerate_scripts_sample_command_writes_the_committed_arch_list(folder, tmp_path, monkeypatch):
    from paddle_supernet.cli import main

    args = _sample_command(folder / "regenerate.sh")
    out = args.index("--out")
    assert Path(args[out + 1]) == Path("benchmarks") / folder.name / "archs.json"
    for word in args:
        if word.startswith("../shared/") and not (BENCH.parents[1] / word).exists():
            pytest.skip(f"challenge data {word} is absent")
    monkeypatch.chdir(BENCH.parents[1])  # the script runs from the repository
    args[out + 1] = str(tmp_path / "archs.json")
    assert main(args) == 0
    assert (tmp_path / "archs.json").read_bytes() == (folder / "archs.json").read_bytes()


def test_the_32px_quick_start_trains_under_its_benchmarks_twin_rule():
    """Each stage of configs/quickstart_fmnist32_r48.yaml is the 16x16 quick start's stage with the training
    values of benchmarks/fmnist32-r48/tables.yaml (its twin rule and input) applied, and scores that benchmark."""
    import yaml

    from paddle_supernet.engine.config import load_config
    from paddle_supernet.pipeline import load_chain
    from paddle_supernet.table_bench import read_table_bench

    repo = BENCH.parents[1]
    rule = read_table_bench(repo / "benchmarks" / "fmnist32-r48")
    training = [pair for pair in rule.overrides + rule.every_stage if not pair.startswith("eval.")]
    old = load_chain(repo / "configs" / "quickstart_fmnist_r48.yaml")["stages"]
    new = load_chain(repo / "configs" / "quickstart_fmnist32_r48.yaml")["stages"]
    assert [s["name"] for s in new] == [s["name"] for s in old]
    drop = {"teacher_weights", "pretrained"}  # the 32x32 run's own files
    for old_stage, new_stage in zip(old, new):
        expected, got = load_config(old_stage["config"], training), load_config(new_stage["config"])
        for section in ("data", "optimizer", "schedule", "strategy", "model"):
            assert {k: v for k, v in got[section].items() if k not in drop} == \
                   {k: v for k, v in expected[section].items() if k not in drop}, (new_stage["config"], section)
    scored = load_config(new[-1]["config"])["eval"]
    assert (scored["archs"], scored["gt"]) == ("benchmarks/fmnist32-r48/archs.json", "benchmarks/fmnist32-r48/gt.json")
    assert yaml.safe_load((repo / "configs" / "quickstart_fmnist32_r48.yaml").read_text())["evaluate"] == ["baseline"]


def test_fmnist32_r48s_recipe_is_the_pilot_recipe_whose_runs_seed_its_log():
    """The benchmark's log starts with the pilot's f-32px-b64-warm runs, which holds only while the two
    recipes resolve to the same values (the name aside) and those runs are in the log unchanged."""
    from paddle_supernet.engine.config import load_config

    pilot = BENCH.parent / "pilot-r48-size" / "f-32px-b64-warm"
    ours, theirs = load_config(BENCH.parent / "fmnist32-r48" / "recipe.yaml"), load_config(pilot / "recipe.yaml")
    assert {k: v for k, v in ours.items() if k != "name"} == {k: v for k, v in theirs.items() if k != "name"}
    pilot_runs = (pilot / "gt.runs.jsonl").read_text().splitlines()
    assert (BENCH.parent / "fmnist32-r48" / "gt.runs.jsonl").read_text().splitlines()[:len(pilot_runs)] == pilot_runs
