import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from paddle_supernet.engine.checkpoint import load_checkpoint
from paddle_supernet.engine.config import load_config
from paddle_supernet.engine.trainer import Trainer, lr_at
from paddle_supernet.errors import InputError

from helpers import TINY, synthetic_data, tiny_config, write_tiny_cifar100

REPO = Path(__file__).resolve().parents[1]


def _weights(trainer):
    return {k: v.numpy().copy() for k, v in trainer.model.state_dict().items()}


def test_lr_schedule():
    assert lr_at(0, 100, 0.1, 10) == pytest.approx(0.01)
    assert lr_at(9, 100, 0.1, 10) == pytest.approx(0.1)
    assert lr_at(55, 100, 0.1, 10) == pytest.approx(0.05)
    assert lr_at(100, 100, 0.1, 10, min_lr=0.001) == pytest.approx(0.001)


def test_resume_reaches_the_uninterrupted_weights(tmp_path):
    data = synthetic_data()
    cfg = tiny_config(["strategy.name=distill"])
    full = Trainer(cfg, tmp_path / "full", data=data)
    full.fit()
    assert full.step == full.total_steps == 8
    first = Trainer(cfg, tmp_path / "cut", data=data)
    first.fit(stop_after=7)  # "killed" after step 7; checkpoints every 3 steps and at epoch ends (4, 8)
    assert load_checkpoint(tmp_path / "cut" / "checkpoint.pdparams")["meta"]["step"] == 6
    resumed = Trainer(cfg, tmp_path / "cut", data=data)
    resumed.fit()
    a, b = _weights(full), _weights(resumed)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert list((tmp_path / "full" / "vdl").iterdir()), "no VisualDL log written"


def test_changed_config_or_corrupted_checkpoint_is_refused_and_kept(tmp_path):
    data = synthetic_data()
    Trainer(tiny_config(), tmp_path, data=data).fit(stop_after=3)
    ckpt = tmp_path / "checkpoint.pdparams"
    before = ckpt.read_bytes()
    config_before = (tmp_path / "config.yaml").read_bytes()
    with pytest.raises(InputError, match="checkpoint.pdparams: was written by a different training config"):
        Trainer(tiny_config(["optimizer.lr=0.2"]), tmp_path, data=data).fit()
    assert ckpt.read_bytes() == before
    assert (tmp_path / "config.yaml").read_bytes() == config_before  # the run directory is as it was
    ckpt.write_bytes(before[: len(before) // 2])
    with pytest.raises(InputError, match="checkpoint.pdparams: corrupted or unreadable checkpoint"):
        Trainer(tiny_config(), tmp_path, data=data).fit()
    assert ckpt.read_bytes() == before[: len(before) // 2]


def test_unknown_config_key_names_file_and_key(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("optimizer:\n  lr: 0.1\n  mometum: 0.9\n")
    with pytest.raises(InputError, match=r"c.yaml: optimizer.mometum: unknown config key"):
        load_config(path)
    path.write_text("strategy: {name: distill, kk: 3}\n")
    with pytest.raises(InputError, match=r"c.yaml: strategy.kk: unknown key for strategy 'distill'"):
        load_config(path)
    child = tmp_path / "child.yaml"
    path.write_text("schedule: {epochs: 7}\n")
    child.write_text("_base_: c.yaml\nschedule: {warmup_steps: 3}\n")
    cfg = load_config(child)
    assert cfg["schedule"] == {"epochs": 7, "warmup_steps": 3, "min_lr": 0.0, "cosine_unit": "step", "cosine_length": None}


def _train_cmd(config, run_dir):
    return [sys.executable, "-m", "paddle_supernet", "train", "--config", str(config), "--run-dir", str(run_dir)]


def test_killed_process_resumes_to_the_same_weights(tmp_path):
    write_tiny_cifar100(tmp_path, n_train=128, n_test=32)
    config = tmp_path / "tiny.yaml"
    config.write_text(f"data: {{name: cifar100, root: {tmp_path}}}\nschedule: {{epochs: 4}}\n")
    overrides = TINY + ["schedule.epochs=4", "checkpoint.every_steps=2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    set_args = [a for o in overrides for a in ("--set", o)]
    full = subprocess.run(_train_cmd(config, tmp_path / "full") + set_args, env=env, capture_output=True, text=True, timeout=300)
    assert full.returncode == 0, full.stderr[-2000:]
    proc = subprocess.Popen(_train_cmd(config, tmp_path / "killed") + set_args, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt = tmp_path / "killed" / "checkpoint.pdparams"
    deadline = time.time() + 120
    while time.time() < deadline and not ckpt.exists():
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    step_at_kill = load_checkpoint(ckpt)["meta"]["step"]
    assert 0 < step_at_kill < 32, "kill the run mid-way"
    again = subprocess.run(_train_cmd(config, tmp_path / "killed") + set_args, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"resumed from {ckpt} at step" in again.stdout
    a = load_checkpoint(tmp_path / "full" / "checkpoint.pdparams")["model"]
    b = load_checkpoint(ckpt)["model"]
    for key in a:
        np.testing.assert_array_equal(np.asarray(a[key]), np.asarray(b[key]), err_msg=key)


def test_keys_added_later_leave_older_fingerprints_unchanged():
    from paddle_supernet.engine.config import ADDED_LATER, training_fingerprint

    import copy

    for cfg in (tiny_config(), tiny_config(["strategy={name: moco}", "model.contrastive={dim: 8, queue: 32}"])):
        trimmed = copy.deepcopy(cfg)
        for dotted in ADDED_LATER:  # the config as written before these keys existed
            node, parts = trimmed, dotted.split(".")
            for part in parts[:-1]:
                node = node[part]
            if node.get(parts[-1], object()) == ADDED_LATER[dotted]:  # absent: a key of another strategy
                node.pop(parts[-1])
        assert training_fingerprint(cfg) == training_fingerprint(trimmed)
    cfg = tiny_config()
    assert training_fingerprint(tiny_config(["sampler.name=fair"])) != training_fingerprint(cfg)


def test_a_config_saved_before_keys_existed_reads_them_at_their_defaults():
    from paddle_supernet.engine.config import merge_config

    cfg = tiny_config()
    old = {**cfg, "eval": {k: v for k, v in cfg["eval"].items() if k not in ("backend", "threads", "calib_backend")}}
    old.pop("sampler")
    merged = merge_config(old, ["eval.batch_size=7"], file="old/checkpoint.pdparams")
    assert (merged["eval"]["backend"], merged["eval"]["threads"], merged["eval"]["calib_backend"]) == ("dygraph", 0, "dygraph")
    assert merged["sampler"]["name"] == "uniform" and merged["eval"]["batch_size"] == 7
    assert "backend" not in old["eval"]  # the saved config itself is left as it was


def test_a_non_finite_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    from paddle_supernet.engine.checkpoint import load_checkpoint

    data = synthetic_data()
    trainer = Trainer(tiny_config(["strategy={name: uniform, k: 1}"]), tmp_path, data=data)
    trainer.fit(stop_after=3)  # checkpoint every 3 steps: step 3 saved
    saved = (tmp_path / "checkpoint.pdparams").read_bytes()
    resumed = Trainer(tiny_config(["strategy={name: uniform, k: 1}"]), tmp_path, data=data)
    original = resumed.strategy.step
    resumed.strategy.step = lambda *a: {**original(*a), "loss/ce": float("nan")}
    with pytest.raises(InputError, match=r"optimizer.lr: training diverged at step 4 \(epoch 1\): loss/ce is nan; stopped "
                                         r"there \(.*checkpoint.pdparams keeps step 3, the last good state\)"):
        resumed.fit()
    assert (tmp_path / "checkpoint.pdparams").read_bytes() == saved
    assert load_checkpoint(tmp_path / "checkpoint.pdparams")["meta"]["step"] == 3
