"""Sharded evaluation: shards merge to the single-process submission byte for byte; bad shards are refused."""

import pytest

from paddle_supernet.cli import main
from paddle_supernet.engine.config import load_config
from paddle_supernet.engine.trainer import Trainer
from paddle_supernet.errors import InputError
from paddle_supernet.evaluator import Evaluator
from paddle_supernet.io.challenge_json import arch_list_from_codes, write_arch_file
from paddle_supernet.io.shards import merge_shards, parse_shard, shard_part_path
from paddle_supernet.spaces import get_space

from helpers import launch_two_ranks, write_tiny_cifar100

SPACE = get_space("cvpr21_resnet20")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("shards")
    write_tiny_cifar100(root, n_train=48, n_test=24)
    config = root / "c.yaml"
    config.write_text(
        f"data: {{name: cifar100, root: {root}, image_size: 8, batch_size: 16, augment: {{rotation: 0}}}}\n"
        "schedule: {epochs: 1, warmup_steps: 1}\nstrategy: {name: uniform, k: 1}\n"
        "eval: {calib_images: 16, calib_batch_size: 16, batch_size: 12}\nlog: {visualdl: false}\n")
    Trainer(load_config(config), root / "run").fit()
    archs = root / "archs.json"
    write_arch_file(archs, arch_list_from_codes(SPACE.sample_unique(7, seed=3)))
    single = root / "single.json"
    assert main(["evaluate", "--checkpoint", str(root / "run" / "checkpoint.pdparams"), "--archs", str(archs),
                 "--out", str(single)]) == 0
    return root, archs, single


def test_bad_shard_specs():
    assert parse_shard("0/1") == (0, 1)
    for text in ("3/2", "2/2", "-1/2", "1", "a/b", "1/0"):
        with pytest.raises(InputError, match="--shard: .* is not a shard i/n"):
            parse_shard(text)


def test_shards_merge_to_the_single_process_bytes(setup, capsys):
    root, archs, single = setup
    out = root / "sharded.json"
    ckpt = str(root / "run" / "checkpoint.pdparams")
    for i in range(3):
        assert main(["evaluate", "--checkpoint", ckpt, "--archs", str(archs), "--out", str(out), "--shard", f"{i}/3"]) == 0
        assert out.exists() == (i == 2)  # the shard that completes the set merges
    assert out.read_bytes() == single.read_bytes()
    assert not any(shard_part_path(out, i, 3).exists() for i in range(3))
    assert "eval 1/3" in capsys.readouterr().out
    # the merged submission carries the single-process record: evaluating it again does not rescore
    assert (root / "sharded.json.record").read_text() == (root / "single.json.record").read_text()
    assert main(["evaluate", "--checkpoint", ckpt, "--archs", str(archs), "--out", str(out)]) == 0
    assert "is up to date" in capsys.readouterr().out and out.read_bytes() == single.read_bytes()


def test_a_missing_incomplete_or_foreign_shard_is_refused_and_nothing_written(setup, tmp_path):
    root, archs, single = setup
    from paddle_supernet.io.challenge_json import read_arch_file

    arch_list = read_arch_file(archs)
    ev = Evaluator.from_checkpoint(root / "run" / "checkpoint.pdparams")
    out = tmp_path / "sub.json"
    ev.evaluate(arch_list, out, shard=(0, 2))
    with pytest.raises(InputError, match=r"sub.json.shard1of2.part: shard 1/2 is missing"):
        merge_shards(out, arch_list, 2)
    assert main(["merge", "--shards", "2", "--archs", str(archs), "--out", str(out)]) == 2
    assert not out.exists()
    other = Evaluator.from_checkpoint(root / "run" / "checkpoint.pdparams", ["eval.calib_images=32"])
    other.evaluate(arch_list, out, shard=(1, 2))  # another eval setting: a foreign shard
    with pytest.raises(InputError, match=r"shard1of2.part: shard 1/2 was written by another checkpoint"):
        merge_shards(out, arch_list, 2)
    part = shard_part_path(out, 1, 2)
    own = shard_part_path(out, 0, 2).read_text().split("\n", 1)[0].replace('"shard": [0, 2]', '"shard": [1, 2]')
    part.write_text(own + "\n")  # the right header and no results: incomplete
    with pytest.raises(InputError, match=r"shard1of2.part: shard 1/2 is incomplete: 3 archs to go"):
        merge_shards(out, arch_list, 2)
    assert not out.exists()


def test_two_gloo_ranks_split_the_list_and_rank0_merges(setup, tmp_path):
    root, archs, single = setup
    out = tmp_path / "dist.json"
    logs = launch_two_ranks(["evaluate", "--checkpoint", str(root / "run" / "checkpoint.pdparams"), "--archs",
                             str(archs), "--out", str(out)], tmp_path)
    assert out.read_bytes() == single.read_bytes()
    assert "eval 1/2" in logs and "arch/h" in logs
