import json
from pathlib import Path

import pytest

from paddle_supernet.cli import main
from paddle_supernet.io.challenge_json import arch_list_from_codes, read_arch_file, write_arch_file
from paddle_supernet.models import build_standalone
from paddle_supernet.spaces import get_space
from paddle_supernet.standalone import run_standalone, runs_log_path, seed_path

from helpers import tiny_config, write_tiny_cifar100

SPACE = get_space("cvpr21_resnet20")


@pytest.fixture
def setup(tmp_path):
    write_tiny_cifar100(tmp_path, n_train=48, n_test=24)
    cfg = tiny_config(["data.name=cifar100", f"data.root={tmp_path}", "schedule.epochs=1"])
    archs = arch_list_from_codes(SPACE.sample_unique(3, seed=2))
    return tmp_path, cfg, archs


def test_standalone_network_is_the_official_one(setup):
    _, cfg, _ = setup
    code = "16-16-16-16-16-16-16-32-32-32-32-32-32-64-64-64-64-64-64-4"
    net = build_standalone(cfg, code, 10, seed=0)
    assert [b.shortcut_conv is not None for b in net.blocks] == [True, False, False] * 3


def test_runs_seeds_writes_files_and_resumes(setup, capsys):
    tmp_path, cfg, archs = setup
    out = tmp_path / "gt.json"
    mean = run_standalone(cfg, archs, out, seeds=[0, 1])
    rows = [json.loads(line) for line in runs_log_path(out).read_text().splitlines()]
    assert len(rows) == 6 and all(0 <= r["acc"] <= 1 and r["loss"] > 0 for r in rows)
    s0, s1 = read_arch_file(seed_path(out, 0)), read_arch_file(seed_path(out, 1))
    for key in archs:
        assert mean[key] == pytest.approx((s0[key].acc + s1[key].acc) / 2)
        assert read_arch_file(out)[key].arch == archs[key].arch
    before = out.read_bytes()
    # "kill" after 4 runs: drop the last two rows, leave a torn line; only the missing runs are retrained
    lines = runs_log_path(out).read_text().splitlines()
    runs_log_path(out).write_text("\n".join(lines[:4]) + "\n" + lines[4][:10])
    capsys.readouterr()
    run_standalone(cfg, archs, out, seeds=[0, 1])
    assert "4 of 6 runs already done; 2 to train" in capsys.readouterr().out
    assert out.read_bytes() == before  # training is deterministic per (arch, seed)


def test_every_run_goes_to_visualdl_with_its_accuracy_and_seconds(setup):
    import os

    from visualdl import LogReader

    from paddle_supernet.standalone import default_vdl_dir

    tmp_path, cfg, archs = setup
    out = tmp_path / "gt.json"
    run_standalone(cfg, archs, out, seeds=[0, 1], vdl_dir=tmp_path / "vdl")
    rows = [json.loads(line) for line in runs_log_path(out).read_text().splitlines()]
    (log_file,) = os.listdir(tmp_path / "vdl")
    reader = LogReader(file_path=str(tmp_path / "vdl" / log_file))
    place = {key: number for number, key in enumerate(archs)}
    for seed in (0, 1):
        logged = {item.id: item.value for item in reader.get_data("scalar", f"acc/seed{seed}")}
        assert logged == pytest.approx({place[r["key"]]: r["acc"] for r in rows if r["seed"] == seed}, abs=1e-6)
    seconds = {item.id: item.value for item in reader.get_data("scalar", "seconds")}
    assert seconds == pytest.approx({i: r["seconds"] for i, r in enumerate(rows, start=1)}, rel=1e-6)
    assert default_vdl_dir("benchmarks/fmnist-r20/gt.json") == Path("runs/standalone/fmnist-r20-gt/vdl")


def test_parallel_workers_give_the_same_results(setup):
    tmp_path, cfg, archs = setup
    one = run_standalone(cfg, archs, tmp_path / "one.json", seeds=[3])
    two = run_standalone(cfg, archs, tmp_path / "two.json", seeds=[3], workers=2)
    assert one == two


def test_cli_logs_to_visualdl_where_told_and_by_default_unless_the_recipe_says_no(setup, monkeypatch):
    import yaml

    tmp_path, cfg, archs = setup
    monkeypatch.chdir(tmp_path)
    write_arch_file(tmp_path / "archs.json", archs)
    for visualdl in (True, False):
        (tmp_path / "c.yaml").write_text(yaml.safe_dump({**cfg, "log": {**cfg["log"], "visualdl": visualdl}}))
        args = ["standalone", "--config", "c.yaml", "--archs", "archs.json", "--seeds", "0"]
        assert main(args + ["--out", f"gt_{visualdl}.json", "--vdl-dir", f"v_{visualdl}"]) == 0
        assert main(args + ["--out", f"gt_{visualdl}_default.json"]) == 0
    assert list((tmp_path / "v_True").iterdir()) and list((tmp_path / "v_False").iterdir())  # told: it logs
    assert list((tmp_path / "runs/standalone" / f"{tmp_path.name}-gt_True_default/vdl").iterdir())
    assert not (tmp_path / "runs/standalone" / f"{tmp_path.name}-gt_False_default").exists()


def test_cli_refuses_foreign_arch_list(setup, capsys):
    tmp_path, _, _ = setup
    bad = tmp_path / "bad.json"
    write_arch_file(bad, arch_list_from_codes(["4-4-4"]))
    config = tmp_path / "c.yaml"
    config.write_text(f"data: {{name: cifar100, root: {tmp_path}}}\n")
    assert main(["standalone", "--config", str(config), "--archs", str(bad), "--out", str(tmp_path / "o.json")]) == 2
    assert "bad.json: arch1: arch code '4-4-4' has 3 fields" in capsys.readouterr().err


def test_a_worker_that_dies_stops_the_run_with_an_error_instead_of_hanging(setup):
    """A worker whose set-up fails (here: its data cannot load) breaks the pool: one error, no wait forever."""
    tmp_path, cfg, archs = setup
    cfg = {**cfg, "data": {**cfg["data"], "root": str(tmp_path / "gone")}}
    with pytest.raises(RuntimeError, match="worker process died.*run the same command again"):
        run_standalone(cfg, archs, tmp_path / "broken.json", seeds=[0], workers=2)
    assert not (tmp_path / "broken.json").exists()


def _cv2_entry_in_this_process() -> str:
    import sys

    return repr(sys.modules.get("cv2", "absent"))


def test_a_spawned_worker_imports_paddle_with_opencv_marked_unavailable(setup):
    """A worker imports Paddle afresh; the guard the command line sets (no numpy-ABI traceback from the
    OpenCV build PaddleSlim pins) must hold there too, before the worker's first ``import paddle``."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    from paddle_supernet.standalone import _init_worker

    _, cfg, _ = setup
    with ProcessPoolExecutor(1, mp.get_context("spawn"), _init_worker, (cfg,)) as pool:
        assert pool.submit(_cv2_entry_in_this_process).result() == "None"
