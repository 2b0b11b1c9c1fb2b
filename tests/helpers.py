"""Tiny data and configs for fast engine tests."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from paddle_supernet.data.arrays import ImageArrays
from paddle_supernet.engine.config import load_config


def write_tiny_cifar100(folder: Path, n_train: int = 96, n_test: int = 48, seed: int = 0) -> Path:
    """A cifar-100-python.tar.gz in the official pickle format, with class-dependent brightness."""
    from paddle_supernet.data.synthetic import write_cifar100_tarball

    return write_cifar100_tarball(folder, n_train, n_test, seed)


def synthetic_data(n_train: int = 64, n_val: int = 32, size: int = 8, classes: int = 4, seed: int = 0):
    """(train, val) ImageArrays whose class shows in the mean brightness."""
    rng = np.random.default_rng(seed)

    def make(n):
        labels = rng.integers(0, classes, size=n)
        images = np.clip(labels[:, None, None, None] * 50 + rng.integers(0, 60, size=(n, size, size, 3)), 0, 255)
        return ImageArrays(images.astype(np.uint8), labels.astype(np.int64), classes)

    return make(n_train), make(n_val)


TINY = [
    "data.image_size=8", "data.batch_size=16", "data.augment.rotation=0", "data.augment.crop_padding=1",
    "schedule.epochs=2", "schedule.warmup_steps=2", "optimizer.lr=0.05", "strategy.k=1",
    "checkpoint.every_steps=3", "log.every_steps=1", "log.every_seconds=0",
    "eval.calib_images=32", "eval.calib_batch_size=16", "eval.batch_size=16", "eval.sample=6",
]


def tiny_config(extra: list[str] | None = None) -> dict:
    return load_config(None, TINY + list(extra or []))


def assert_resume_is_exact(cfg: dict, root: Path, data, stop_after: int, saved_at: int | None = None):
    """Train ``cfg`` uninterrupted in ``root/full``; train it in ``root/cut`` "killed" after
    ``stop_after`` steps (the last checkpoint at ``saved_at`` when given), resume it there; assert
    that every weight and buffer ends identical. Returns (full, resumed) trainers."""
    from paddle_supernet.engine.checkpoint import load_checkpoint
    from paddle_supernet.engine.trainer import Trainer

    full = Trainer(cfg, root / "full", data=data)
    full.fit()
    Trainer(cfg, root / "cut", data=data).fit(stop_after=stop_after)
    if saved_at is not None:
        assert load_checkpoint(root / "cut" / "checkpoint.pdparams")["meta"]["step"] == saved_at
    resumed = Trainer(cfg, root / "cut", data=data)
    resumed.fit()
    a, b = full.model.state_dict(), resumed.model.state_dict()
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy(), err_msg=key)
    return full, resumed


def launch_two_ranks(args: list[str], folder: Path) -> str:
    """Run ``tools/cli.py ARGS`` under ``paddle.distributed.launch`` on two gloo CPU ranks; returns
    the ranks' logs, asserting success (with the logs in the message)."""
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PADDLE_DISTRI_BACKEND": "gloo"}
    proc = subprocess.run([sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2",
                           "--log_dir", str(folder / "log"), str(repo / "tools" / "cli.py"), *args],
                          env=env, capture_output=True, text=True, timeout=300, cwd=str(folder))
    logs = "".join(p.read_text() for p in (folder / "log").glob("*")) if (folder / "log").exists() else ""
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:] + logs[-3000:]
    return logs
