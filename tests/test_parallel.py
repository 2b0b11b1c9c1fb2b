"""Data-parallel training on two CPU ranks (gloo) through paddle.distributed.launch."""
from pathlib import Path

import numpy as np
import paddle

from paddle_supernet.data.batches import Augment, TrainBatches
from paddle_supernet.engine.checkpoint import load_checkpoint
from paddle_supernet.engine.config import load_config
from paddle_supernet.engine.trainer import Trainer, lr_at

from helpers import launch_two_ranks, write_tiny_cifar100

REPO = Path(__file__).resolve().parents[1]


def test_two_ranks_equal_the_average_of_their_shards_gradients(tmp_path):
    write_tiny_cifar100(tmp_path, n_train=64, n_test=16)
    config = tmp_path / "c.yaml"
    config.write_text(
        f"data: {{name: cifar100, root: {tmp_path}, image_size: 8, batch_size: 16, augment: {{rotation: 0, crop_padding: 1}}}}\n"
        "schedule: {epochs: 1, warmup_steps: 1}\nstrategy: {name: distill, k: 2}\ncheckpoint: {every_steps: 100}\n"
        "log: {visualdl: false}\n")
    launch_two_ranks(["train", "--config", str(config), "--run-dir", str(tmp_path / "run")], tmp_path)
    trained = load_checkpoint(tmp_path / "run" / "checkpoint.pdparams")
    assert trained["meta"]["finished"] and trained["meta"]["step"] == 4

    # the two ranks emulated in one process: two copies, each on its shard, gradients averaged each step
    cfg = load_config(config)
    ranks = [Trainer(cfg, None, quiet=True) for _ in range(2)]
    shards = [TrainBatches(ranks[0].train_data, 16, Augment(**cfg["data"]["augment"]), cfg["seed"], shard=(r, 2))
              for r in (0, 1)]
    for rank in ranks:
        rank.model.train()
    for step in range(ranks[0].total_steps):
        lr = lr_at(step, ranks[0].total_steps, cfg["optimizer"]["lr"], cfg["schedule"]["warmup_steps"])
        for rank, shard in zip(ranks, shards):
            images, labels = shard.batch(0, step)
            rank.optimizer.set_lr(lr)
            rank.strategy.step(rank.model, images, labels, 0, step)
        with paddle.no_grad():
            for a, b in zip(*([p for p in r.model.parameters() if not p.stop_gradient] for r in ranks)):
                if a.grad is not None:
                    mean = (a.grad + b.grad) * 0.5
                    paddle.assign(mean, a.grad)
                    paddle.assign(mean, b.grad)
        for rank in ranks:
            with paddle.utils.unique_name.guard():
                rank.optimizer.step()
            rank.optimizer.clear_grad()
    for name, param in ranks[0].model.named_parameters():
        if not param.stop_gradient:
            np.testing.assert_allclose(np.asarray(trained["model"][name]), param.numpy(), rtol=1e-5, atol=1e-7, err_msg=name)


def test_the_2022_baseline_trains_on_two_ranks_with_agreeing_archs(tmp_path):
    from paddle_supernet.engine.parallel import compare_digests

    write_tiny_cifar100(tmp_path, n_train=64, n_test=16)
    common = (f"space: cvpr22_resnet48\nmodel: {{small_input: true, width_scale: 0.125}}\n"
              f"data: {{name: cifar100, root: {tmp_path}, image_size: 8, batch_size: 16, "
              "augment: {rotation: 0, crop_padding: 1}}\nlog: {visualdl: false, rank_check_every: 1}\n")
    (tmp_path / "teacher.yaml").write_text(common + "schedule: {epochs: 1, warmup_steps: 1}\n"
                                           f"strategy: {{name: fixed}}\ncheckpoint: {{export_full: {tmp_path / 't.pdparams'}}}\n")
    Trainer(load_config(tmp_path / "teacher.yaml"), tmp_path / "teacher").fit()
    config = tmp_path / "kd.yaml"
    config.write_text(common + "schedule: {epochs: 1, warmup_steps: 1}\ncheckpoint: {every_steps: 100}\n"
                      f"strategy: {{name: kd, k: 2, teacher_weights: {tmp_path / 't.pdparams'}}}\n"
                      "sampler: {name: ccfs_m, pool: 20}\n")
    logs = launch_two_ranks(["train", "--config", str(config), "--run-dir", str(tmp_path / "run")], tmp_path)
    meta = load_checkpoint(tmp_path / "run" / "checkpoint.pdparams")["meta"]
    assert meta["finished"] and meta["step"] == 4  # every step's archs compared across the ranks
    assert (meta["data_parallel"]["ranks"], meta["data_parallel"]["global_batch"], meta["data_parallel"]["rank_batch"]) \
        == (2, 16, 8)
    assert "2 ranks x 8 images = global batch 16" in logs
    compare_digests([7, 7, 7], step=1)
    try:
        compare_digests([7, 7, 8], step=12)
    except RuntimeError as err:
        assert "ranks diverged at step 12: ranks [2]" in str(err)
    else:
        raise AssertionError("diverged ranks were not reported")


def test_moco_on_two_ranks_enqueues_the_keys_of_the_global_batch(tmp_path):
    write_tiny_cifar100(tmp_path, n_train=64, n_test=16)
    config = tmp_path / "moco.yaml"
    config.write_text(
        f"space: cvpr22_resnet48\nmodel: {{small_input: true, width_scale: 0.125, contrastive: {{dim: 8, queue: 40}}}}\n"
        f"data: {{name: cifar100, root: {tmp_path}, image_size: 8, batch_size: 16, "
        "augment: {rotation: 0, crop_padding: 0, resized_crop: [0.3, 1.0]}}\nlog: {visualdl: false, rank_check_every: 1}\n"
        "schedule: {epochs: 1, warmup_steps: 1}\nstrategy: {name: moco, momentum: 0.9}\n")
    launch_two_ranks(["train", "--config", str(config), "--run-dir", str(tmp_path / "run")], tmp_path)
    state = load_checkpoint(tmp_path / "run" / "checkpoint.pdparams")
    assert state["meta"]["finished"] and state["meta"]["step"] == 4
    # 4 steps x 16 keys gathered from both ranks (8 each): the pointer went round the 40 columns to 24
    assert int(np.asarray(state["model"]["queue_ptr"])[0]) == 24


def test_a_two_rank_chain_waits_for_rank_0s_exported_network_before_its_next_stage(tmp_path):
    """Found by the rehearsal (issue 27): rank 1 started the next stage, which reads the full network
    rank 0 exports when the first finishes, before rank 0 had written it ("weights file not found")."""
    write_tiny_cifar100(tmp_path, n_train=64, n_test=16)
    common = (f"space: cvpr22_resnet48\nmodel: {{small_input: true, width_scale: 0.125}}\n"
              f"data: {{name: cifar100, root: {tmp_path}, image_size: 8, batch_size: 16}}\n"
              "schedule: {epochs: 1}\ncheckpoint: {every_steps: 100}\nlog: {visualdl: false}\n")
    full = tmp_path / "full.pdparams"
    (tmp_path / "first.yaml").write_text(common + f"name: first\nstrategy: {{name: fixed}}\n"
                                                  f"checkpoint: {{every_steps: 100, export_full: {full}}}\n")
    (tmp_path / "second.yaml").write_text(common + f"name: second\nstrategy: {{name: uniform}}\n"
                                                   f"model: {{small_input: true, width_scale: 0.125, pretrained: {full}}}\n")
    (tmp_path / "chain.yaml").write_text("name: two\nstages:\n  - {name: first, config: first.yaml}\n"
                                         "  - {name: second, config: second.yaml, from_previous: false}\n")
    launch_two_ranks(["chain", "--chain", str(tmp_path / "chain.yaml"), "--run-root", str(tmp_path / "runs")], tmp_path)
    assert load_checkpoint(tmp_path / "runs" / "second" / "checkpoint.pdparams")["meta"]["finished"]
