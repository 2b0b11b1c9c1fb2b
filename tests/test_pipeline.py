import pytest

from paddle_supernet.cli import main
from paddle_supernet.engine.checkpoint import load_checkpoint
from paddle_supernet.engine.config import load_config
from paddle_supernet.errors import InputError
from paddle_supernet.io.challenge_json import read_arch_file
from paddle_supernet.pipeline import load_chain

from helpers import TINY, write_tiny_cifar100


def test_base_list_merges_in_order_and_keeps_explicit_values(tmp_path):
    (tmp_path / "a.yaml").write_text("data: {name: cifar100, image_size: 12}\nstrategy: {name: fixed}\n")
    (tmp_path / "b.yaml").write_text("data: {name: fashion_mnist}\nschedule: {epochs: 4}\n")  # the default value, explicitly
    (tmp_path / "c.yaml").write_text("_base_: [a.yaml, b.yaml]\nstrategy: {arch: smallest}\n")
    cfg = load_config(tmp_path / "c.yaml")
    assert cfg["data"]["name"] == "fashion_mnist" and cfg["data"]["image_size"] == 12
    assert cfg["strategy"] == {"name": "fixed", "arch": "smallest"} and cfg["schedule"]["epochs"] == 4
    (tmp_path / "d.yaml").write_text("_base_: [a.yaml]\nstrategy: {name: uniform}\n")
    assert load_config(tmp_path / "d.yaml")["strategy"] == {"name": "uniform", "k": 1, "reduce": "mean"}
    (tmp_path / "f.yaml").write_text("model: {branches: {default: halves, 13: per_option}}\n")
    (tmp_path / "g.yaml").write_text("_base_: f.yaml\nmodel: {branches: {default: per_option}}\n")
    assert load_config(tmp_path / "g.yaml")["model"]["branches"] == {"default": "per_option"}  # a value, replaced whole
    (tmp_path / "bad.yaml").write_text("dta: {}\n")
    (tmp_path / "e.yaml").write_text("_base_: bad.yaml\n")
    with pytest.raises(InputError, match=r"bad.yaml: dta: unknown config key"):
        load_config(tmp_path / "e.yaml")


def test_shipped_recipes_resolve():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "configs"
    import yaml

    from paddle_supernet.pipeline import is_chain

    for path in sorted(root.rglob("*.yaml")):
        if is_chain(yaml.safe_load(path.read_text())):
            for stage in load_chain(path)["stages"]:
                load_config(stage["config"])
        elif path.name != "scale.yaml":
            load_config(path)
    twin = load_config(root / "cvpr21" / "fmnist" / "stage2_prl_oe.yaml")
    assert (twin["data"]["name"], twin["model"]["branches"], twin["model"]["activation"], twin["optimizer"]["lr"]) == \
        ("fashion_mnist", "halves", "prelu", 0.001)
    assert load_config(root / "cvpr21" / "fmnist" / "pretrain_largest.yaml")["strategy"]["name"] == "fixed"


def test_cvpr22_recipes_have_the_official_hyper_parameters():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "configs" / "cvpr22"
    base = load_config(root / "baseline.yaml")
    assert (base["space"], base["data"]["name"], base["data"]["batch_size"], base["optimizer"]["lr"],
            base["optimizer"]["momentum"], base["optimizer"]["weight_decay"], base["schedule"]["epochs"],
            base["schedule"]["warmup_steps"]) == ("cvpr22_resnet48", "imagenet", 1024, 0.004, 0.9, 3e-5, 70, 6255)
    assert base["strategy"] == {"name": "kd", "k": 2, "ce_weight": 1.0, "kd_weight": 1.0, "temperature": 1.0,
                                "reduce": "sum", "teacher": "external",
                                "teacher_weights": "runs/cvpr22_pretrain_largest/resnet48.pdparams"}
    assert base["model"]["pretrained"] == base["strategy"]["teacher_weights"] and not base["model"]["small_input"]
    released = load_config(root / "baseline_released.yaml")
    assert (released["model"]["reorder"], released["model"]["bn_stats"]) == (True, "frozen")
    twin = load_config(root / "fmnist" / "baseline.yaml")
    assert (twin["data"]["name"], twin["model"]["small_input"], twin["model"]["width_scale"], twin["strategy"]["k"]) == \
        ("fashion_mnist", True, 0.125, 2)
    chain = load_chain(root / "chain_baseline.yaml")
    assert [s["from_previous"] for s in chain["stages"]] == [True, False]


def test_chain_runs_stages_from_each_other_and_skips_finished_ones(tmp_path, capsys):
    write_tiny_cifar100(tmp_path, n_train=48, n_test=16)
    (tmp_path / "s0.yaml").write_text(f"data: {{name: cifar100, root: {tmp_path}}}\nstrategy: {{name: fixed}}\n")
    (tmp_path / "s1.yaml").write_text("_base_: s0.yaml\nstrategy: {name: distill, k: 1}\n")
    (tmp_path / "s2.yaml").write_text("_base_: s1.yaml\nmodel: {branches: halves}\noptimizer: {lr: 0.01}\n")
    (tmp_path / "chain.yaml").write_text(
        "name: tiny\nstages:\n  - {name: pre, config: s0.yaml}\n  - {name: one, config: s1.yaml}\n"
        "  - {name: two, config: s2.yaml}\nevaluate: [one, two]\n")
    argv = ["chain", "--chain", str(tmp_path / "chain.yaml"), "--run-root", str(tmp_path / "runs")]
    argv += [a for o in TINY + ["schedule.epochs=1"] if not o.startswith("strategy.") for a in ("--set", o)]
    assert main(argv) == 0
    runs = tmp_path / "runs"
    two = load_checkpoint(runs / "two" / "checkpoint.pdparams")
    assert two["meta"]["config"]["checkpoint"]["init_from"] == str(runs / "one" / "checkpoint.pdparams")
    assert any(".extra_weights." in key for key in two["model"])  # stage two split the weights
    assert not (runs / "pre" / "submission.json").exists()
    assert len(read_arch_file(runs / "two" / "submission.json")) == 6
    capsys.readouterr()
    assert main(argv) == 0
    assert capsys.readouterr().out.count("is already finished") == 3


def test_bad_chain_file(tmp_path):
    (tmp_path / "c.yaml").write_text("name: x\nstages:\n  - {name: a, config: a.yaml}\nevaluate: [b]\n")
    with pytest.raises(InputError, match=r"c.yaml: evaluate: names no stage of this chain: \['b'\] \(its stages: \['a'\]\)"):
        load_chain(tmp_path / "c.yaml")
    (tmp_path / "c.yaml").write_text("name: x\nstages:\n  - {name: a, config: a.yaml}\n  - {name: a, config: b.yaml}\n")
    with pytest.raises(InputError, match=r"stages\[1\].name: stage name 'a' is used twice \(stage 1 and stage 2\)"):
        load_chain(tmp_path / "c.yaml")
    for bad, key in (("name: ../up\n", "name"), ("stages:\n  - {name: /abs, config: a.yaml}\n", r"stages\[0\].name")):
        text = bad if bad.startswith("stages") else bad + "stages:\n  - {name: a, config: a.yaml}\n"
        (tmp_path / "c.yaml").write_text(text)
        with pytest.raises(InputError, match=key + r": must be a single folder name"):
            load_chain(tmp_path / "c.yaml")


def test_chain_stages_train_with_distinct_derived_seeds(tmp_path):
    from paddle_supernet.pipeline import run_chain

    write_tiny_cifar100(tmp_path, n_train=48, n_test=16)
    (tmp_path / "s0.yaml").write_text(f"data: {{name: cifar100, root: {tmp_path}}}\nstrategy: {{name: fixed}}\n")
    (tmp_path / "chain.yaml").write_text(
        "name: tiny\nstages:\n  - {name: a, config: s0.yaml}\n  - {name: b, config: s0.yaml}\n"
        "  - {name: c, config: s0.yaml, same_seed: true}\n")
    overrides = [o for o in TINY + ["schedule.epochs=1", "seed=3"] if not o.startswith("strategy.")]
    run_chain(tmp_path / "chain.yaml", overrides, tmp_path / "runs")
    seeds = [load_checkpoint(tmp_path / "runs" / n / "checkpoint.pdparams")["meta"]["config"]["seed"] for n in "abc"]
    assert seeds == [3, 1003, 3]


def test_chain_checks_every_stage_before_training(tmp_path):
    from paddle_supernet.pipeline import run_chain

    write_tiny_cifar100(tmp_path, n_train=48, n_test=16)
    (tmp_path / "s0.yaml").write_text(f"data: {{name: cifar100, root: {tmp_path}}}\nstrategy: {{name: fixed}}\n")
    (tmp_path / "s1.yaml").write_text("_base_: s0.yaml\neval: {archs: missing.json}\n")
    (tmp_path / "s2.yaml").write_text("_base_: s0.yaml\nmodel: {branches: halves}\n")
    (tmp_path / "chain.yaml").write_text("name: tiny\nstages:\n  - {name: a, config: s0.yaml}\n"
                                         "  - {name: b, config: s1.yaml}\nevaluate: [b]\n")
    overrides = [o for o in TINY + ["schedule.epochs=1"] if not o.startswith("strategy.")]
    with pytest.raises(InputError, match="missing.json"):
        run_chain(tmp_path / "chain.yaml", overrides, tmp_path / "runs")
    assert not (tmp_path / "runs").exists()  # nothing trained, no run directory made
    (tmp_path / "chain2.yaml").write_text("name: tiny\nstages:\n  - {name: a, config: s0.yaml}\n"
                                          "  - {name: c, config: s2.yaml}\n")
    bad = overrides + ["checkpoint.init_from=nowhere.pdparams"]
    with pytest.raises(InputError, match="checkpoint.init_from: nowhere.pdparams not found"):
        run_chain(tmp_path / "chain2.yaml", bad, tmp_path / "runs")
    # an option of the other space is refused by the stage's check too, before anything trains
    with pytest.raises(InputError, match="model.pretrained: is 'nowhere.pdparams', an option of cvpr22_resnet48"):
        run_chain(tmp_path / "chain2.yaml", overrides + ["model.pretrained=nowhere.pdparams"], tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


def test_chain_refuses_a_stage_that_does_not_refine_the_previous_groups(tmp_path):
    from paddle_supernet.pipeline import run_chain

    write_tiny_cifar100(tmp_path, n_train=48, n_test=16)
    (tmp_path / "s0.yaml").write_text(f"data: {{name: cifar100, root: {tmp_path}}}\n"
                                      "model: {branches: {default: released, head: released}}\n")
    (tmp_path / "s1.yaml").write_text("_base_: s0.yaml\nmodel: {branches: per_option}\n")  # head left unsplit
    (tmp_path / "chain.yaml").write_text("name: t\nstages:\n  - {name: a, config: s0.yaml}\n"
                                         "  - {name: b, config: s1.yaml}\n")
    with pytest.raises(InputError, match=r"s1.yaml: model.branches: new group .* spans several old branches .*the head"):
        run_chain(tmp_path / "chain.yaml", [o for o in TINY if not o.startswith("strategy.")], tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


def test_runner_up_recipes_follow_the_paper_and_the_released_code():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "configs" / "cvpr22" / "runner_up"
    v3, v2 = load_config(root / "aps_v3.yaml"), load_config(root / "aps_v2.yaml")
    phases = v3["sampler"]["phases"]
    # the paper's 0.001 / 0.002 / 0.004 x global batch / 256, as the team's scripts
    assert [p["epochs"] for p in phases] == [5, 10, 15, 5, 10, 25] and [p["lr"] for p in phases] == [0.008, 0.016, 0.032] * 2
    assert phases[0]["depth"] == [[4, 5], [4, 5], [6, 8], [2, 5]] and phases[1]["depth"] == [[3, 5], [3, 5], [4, 8], [2, 5]]
    assert v2["sampler"]["phases"][0]["depth"][3] == [4, 5] and v2["sampler"]["phases"][1]["depth"][3] == [2, 5]
    v1 = load_config(root / "aps_v1.yaml")["sampler"]["phases"]  # the paper's first APS (Table 1 baseline)
    assert [p.get("depth") for p in v1[:3]] == [[[4, 5], [4, 5], [6, 8], [4, 5]], [[3, 5], [3, 5], [4, 8], [3, 5]], None]
    assert [p["width"] for p in phases[3:]] == [[[1, 3]] * 4, [[1, 3], [1, 3], [1, 5], [1, 5]], [[1, 3], [1, 3], [1, 5], [1, 7]]]
    assert (v3["strategy"]["name"], v3["strategy"]["k"], v3["data"]["batch_size"]) == ("uniform", 4, 2048)
    released = load_config(root / "aps_released.yaml")["sampler"]
    assert [p["lr"] for p in released["phases"]] == [0.008, 0.016, 0.032] * 2 and released["cosine_unit"] == "epoch"
    cpt = load_config(root / "cpt.yaml")["strategy"]
    assert (cpt["ce_weight"], cpt["candidate_weight"], cpt["candidates"], cpt["knn"], cpt["recent"], cpt["reset_every"]) \
        == (0.5, 0.5, 10, 9, 100, 500)
    sse = load_config(root / "sse34_dis.yaml")
    assert [(p["epochs"], p["group"]) for p in sse["sampler"]["phases"]] == [(6, 0), (9, 1), (6, 2), (9, 3)]
    assert (sse["strategy"]["ce_weight"], sse["strategy"]["kd_weight"], sse["strategy"]["candidate_weight"],
            sse["strategy"]["candidates"], sse["strategy"]["knn"], sse["strategy"]["recent"]) == (0.4, 0.4, 0.2, 7, 6, 80)
    assert load_config(root / "sse34_dis_released.yaml")["model"]["few_shot"]["optimize"] == "all"


def _tiny_chain_with_a_shared_stage(tmp_path):
    """chain.yaml: a shared stage ``pre`` (its own seed 7, in ``shared_run``) and a stage ``b`` that
    continues from it, on tiny CIFAR-100; returns the shared folder and the tiny overrides."""
    write_tiny_cifar100(tmp_path, n_train=48, n_test=16)
    (tmp_path / "shared.yaml").write_text(
        f"seed: 7\ndata: {{name: cifar100, root: {tmp_path}, image_size: 8, batch_size: 16}}\n"
        "schedule: {epochs: 1, warmup_steps: 1}\nstrategy: {name: fixed}\neval: {calib_images: 16}\n")
    (tmp_path / "s0.yaml").write_text(f"data: {{name: cifar100, root: {tmp_path}}}\nstrategy: {{name: fixed}}\n")
    shared_dir = tmp_path / "shared_run"
    (tmp_path / "chain.yaml").write_text(
        f"name: tiny\nstages:\n  - {{name: pre, config: shared.yaml, run_dir: {shared_dir}}}\n"
        "  - {name: b, config: s0.yaml}\n")
    return shared_dir, [o for o in TINY + ["schedule.epochs=1"] if not o.startswith("strategy.")]


def test_a_shared_stage_runs_once_for_every_seed_and_chain(tmp_path, capsys):
    from paddle_supernet.pipeline import run_chain

    shared_dir, overrides = _tiny_chain_with_a_shared_stage(tmp_path)
    run_chain(tmp_path / "chain.yaml", overrides + ["seed=1"], tmp_path / "runs1")
    before = (shared_dir / "checkpoint.pdparams").read_bytes()
    capsys.readouterr()
    run_chain(tmp_path / "chain.yaml", overrides + ["seed=2"], tmp_path / "runs2")
    assert f"{shared_dir / 'checkpoint.pdparams'} is already finished" in capsys.readouterr().out
    assert (shared_dir / "checkpoint.pdparams").read_bytes() == before
    assert load_checkpoint(shared_dir / "checkpoint.pdparams")["meta"]["config"]["seed"] == 7  # its own seed
    b = load_checkpoint(tmp_path / "runs2" / "b" / "checkpoint.pdparams")["meta"]["config"]
    assert b["seed"] == 1002 and b["checkpoint"]["init_from"] == str(shared_dir / "checkpoint.pdparams")
    assert not (tmp_path / "runs1" / "pre").exists()


def test_set_all_runs_a_changed_copy_of_the_shared_stage_apart_and_the_chain_follows_it(tmp_path):
    from paddle_supernet.pipeline import run_chain

    shared_dir, overrides = _tiny_chain_with_a_shared_stage(tmp_path)
    overrides = [o for o in overrides if not o.startswith("data.image_size")]  # --set would win over --set-all
    with pytest.raises(InputError, match="--shared-root: --set-all changes the shared stage 'pre'"):
        run_chain(tmp_path / "chain.yaml", overrides, tmp_path / "runs", every_stage=["data.image_size=12"])
    assert not shared_dir.exists() and not (tmp_path / "runs").exists()  # refused before anything ran
    main(["chain", "--chain", str(tmp_path / "chain.yaml"), *sum((["--set", o] for o in overrides), []),
          "--set-all", "data.image_size=12", "--shared-root", str(tmp_path / "at12"), "--run-root",
          str(tmp_path / "runs")])
    moved = tmp_path / "at12" / shared_dir.relative_to(shared_dir.anchor)
    assert not shared_dir.exists()  # the unchanged shared stage's folder is left alone
    pre = load_checkpoint(moved / "checkpoint.pdparams")["meta"]["config"]
    assert (pre["data"]["image_size"], pre["seed"]) == (12, 7)  # changed by --set-all only, its own seed kept
    b = load_checkpoint(tmp_path / "runs" / "b" / "checkpoint.pdparams")["meta"]["config"]
    assert b["data"]["image_size"] == 12 and b["checkpoint"]["init_from"] == str(moved / "checkpoint.pdparams")


def test_paths_to_moved_shared_artifacts_follow_them():
    from pathlib import Path

    from paddle_supernet.pipeline import move_shared_paths

    cfg = {"model": {"pretrained": "runs/c/resnet48.pdparams"}, "strategy": {"teacher_weights": "runs/c/resnet48.pdparams"},
           "checkpoint": {"init_from": "runs/c/pretrain/checkpoint.pdparams", "export_full": None}}
    moves = {Path("runs/c/pretrain"): Path("alt/runs/c/pretrain"),
             Path("runs/c/resnet48.pdparams"): Path("alt/runs/c/resnet48.pdparams")}
    assert move_shared_paths(cfg, moves) == ["model.pretrained=alt/runs/c/resnet48.pdparams",
                                             "checkpoint.init_from=alt/runs/c/pretrain/checkpoint.pdparams",
                                             "strategy.teacher_weights=alt/runs/c/resnet48.pdparams"]
    assert move_shared_paths({"model": {"pretrained": "runs/cc/x.pdparams"}, "strategy": {}, "checkpoint": {}},
                             moves) == []  # a sibling folder with a common prefix does not follow


def test_a_second_process_at_a_shared_stage_waits_for_the_first_and_reuses_its_run(tmp_path, capsys):
    import fcntl
    import threading
    import time

    from paddle_supernet.pipeline import run_chain

    shared_dir, overrides = _tiny_chain_with_a_shared_stage(tmp_path)
    shared_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(shared_dir.parent / f".{shared_dir.name}.lock", "a") as held:  # another process training it
        fcntl.flock(held, fcntl.LOCK_EX)
        worker = threading.Thread(target=run_chain, args=(tmp_path / "chain.yaml", overrides, tmp_path / "runs"))
        worker.start()
        time.sleep(2)
        assert worker.is_alive() and not (shared_dir / "checkpoint.pdparams").exists()  # waiting, not training
        assert f"{shared_dir} is being trained by another process; waiting for it" in capsys.readouterr().out
        fcntl.flock(held, fcntl.LOCK_UN)
    worker.join(timeout=300)
    assert not worker.is_alive()
    assert load_checkpoint(shared_dir / "checkpoint.pdparams")["meta"]["finished"]
    assert (tmp_path / "runs" / "b" / "checkpoint.pdparams").exists()
