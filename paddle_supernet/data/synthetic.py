"""Synthetic data in the real formats, for rehearsals and tests: a CIFAR-100 tarball with the official
pickle layout, and an ImageNet-style folder of JPEGs. Class-dependent brightness makes them learnable.

Example:
    >>> write_cifar100_tarball("/tmp/cifar", n_train=96, n_test=48)          # doctest: +SKIP
    >>> write_image_folder("/tmp/imagenet", classes=1000, per_class=1)       # doctest: +SKIP
"""
from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np


def write_cifar100_tarball(folder: str | Path, n_train: int = 96, n_test: int = 48, seed: int = 0) -> Path:
    """``folder/cifar-100-python.tar.gz`` in the official pickle format (``data`` N x 3072 uint8, ``fine_labels``)."""
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cifar-100-python.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for split, n in (("train", n_train), ("test", n_test)):
            labels = rng.integers(0, 100, size=n)
            base = (labels * 2.5).astype(np.uint8)[:, None]
            data = np.clip(base + rng.integers(0, 40, size=(n, 3072)), 0, 255).astype(np.uint8)
            payload = pickle.dumps({b"data": data, b"fine_labels": labels.tolist(), b"filenames": [b"x"] * n})
            info = tarfile.TarInfo(f"cifar-100-python/{split}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path


def write_image_folder(root: str | Path, classes: int = 1000, per_class: int = 1, val_per_class: int = 1,
                       size: tuple[int, int] = (40, 32), seed: int = 0) -> Path:
    """``root/train/<wnid>/*.JPEG`` and ``root/val/<wnid>/*.JPEG`` with ImageNet-like class folder names
    (``n00000000``, ``n00000001``, ...), ``classes`` of them, small RGB JPEGs."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    root = Path(root)
    for split, count in (("train", per_class), ("val", val_per_class)):
        for c in range(classes):
            folder = root / split / f"n{c:08d}"
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                pixels = np.clip((c * 37) % 200 + rng.integers(0, 56, size=(size[1], size[0], 3)), 0, 255)
                Image.fromarray(pixels.astype(np.uint8)).save(folder / f"{split}_{c}_{i}.JPEG", quality=90)
    return root


def rehearsal_data(folder: str | Path) -> dict:
    """The rehearsal's data roots (``{"cifar100": ..., "imagenet": ...}``) under ``folder``, written once:
    a CIFAR-100 tarball of 96 + 48 images, and 1,000 ImageNet-style classes of one training and one
    validation JPEG each. Each is built in a temporary folder and renamed into place, so processes
    starting together (data-parallel ranks) never read a half-written one."""
    import os
    import shutil

    folder = Path(folder)
    roots = {"cifar100": folder / "cifar100", "imagenet": folder / "imagenet"}
    writers = {"cifar100": lambda path: write_cifar100_tarball(path),
               "imagenet": lambda path: write_image_folder(path, classes=1000)}
    for name, root in roots.items():
        if root.exists():
            continue
        temporary = folder / f".{name}.{os.getpid()}"
        shutil.rmtree(temporary, ignore_errors=True)
        writers[name](temporary)
        try:
            temporary.rename(root)
        except OSError:  # another process finished first
            shutil.rmtree(temporary, ignore_errors=True)
    return roots
