"""Deterministic batches: the batch at (epoch, step) depends on the seed alone.

That is what lets a killed run resume to exactly the weights of an
uninterrupted one. Augmentation follows the 2021 challenge recipe: random crop
with padding, horizontal flip, brightness and contrast (each with p = 0.5),
rotation; every part can be switched off in the config.

Example:
    >>> batches = TrainBatches(train, batch_size=64, augment=Augment(crop_padding=4, flip=True), seed=0)  # doctest: +SKIP
    >>> x, y = batches.batch(epoch=0, step=3)  # doctest: +SKIP
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import paddle
from scipy import ndimage

from ..rng import local_rng
from .arrays import ImageArrays

AUGMENT_STREAM, SHUFFLE_STREAM = 1, 2


@dataclass
class Augment:
    """Batch augmentation on uint8 NHWC images; returns float32 NHWC in [0, 1]."""

    crop_padding: int = 0
    flip: bool = False
    brightness: float = 0.0
    contrast: float = 0.0
    rotation: float = 0.0
    probability: float = 0.5

    def __call__(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        x = images.astype(np.float32) / 255.0
        n, h, w, _ = x.shape
        if self.rotation:
            angles = rng.uniform(-self.rotation, self.rotation, size=n)
            x = np.stack([ndimage.rotate(img, a, axes=(1, 0), reshape=False, order=1, mode="constant")
                          for img, a in zip(x, angles)])
        if self.crop_padding:
            p = self.crop_padding
            padded = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
            dy, dx = rng.integers(0, 2 * p + 1, size=n), rng.integers(0, 2 * p + 1, size=n)
            x = np.stack([padded[i, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])
        if self.flip:
            mirror = rng.random(n) < 0.5
            x[mirror] = x[mirror, :, ::-1]
        if self.brightness:
            apply = rng.random(n) < self.probability
            factor = np.where(apply, rng.uniform(1 - self.brightness, 1 + self.brightness, n), 1.0)
            x = x * factor[:, None, None, None].astype(np.float32)
        if self.contrast:
            apply = rng.random(n) < self.probability
            factor = np.where(apply, rng.uniform(1 - self.contrast, 1 + self.contrast, n), 1.0)[:, None, None, None]
            gray = x.mean(axis=(1, 2, 3), keepdims=True)
            x = (x - gray) * factor.astype(np.float32) + gray
        return np.clip(x, 0.0, 1.0)


class TrainBatches:
    """Shuffled, augmented training batches addressed by (epoch, step); the last partial batch is dropped."""

    def __init__(self, data: ImageArrays, batch_size: int, augment: Augment, seed: int, shard: tuple = (0, 1)):
        """``batch_size`` is the global batch; with ``shard=(rank, world)`` this process gets every
        world-th image of it (data-parallel training), augmented exactly as in a single process."""
        if len(data) < batch_size:
            raise ValueError(f"training set has {len(data)} images, fewer than one batch of {batch_size}")
        if batch_size % shard[1]:
            raise ValueError(f"global batch {batch_size} does not split evenly over {shard[1]} ranks")
        self.data, self.batch_size, self.augment, self.seed = data, batch_size, augment, seed
        self.rank, self.world = shard
        self._order_epoch, self._order = None, None

    @property
    def steps_per_epoch(self) -> int:
        return len(self.data) // self.batch_size

    def indices(self, epoch: int, step: int) -> np.ndarray:
        if self._order_epoch != epoch:
            self._order = local_rng(self.seed, epoch, stream=SHUFFLE_STREAM).permutation(len(self.data))
            self._order_epoch = epoch
        return self._order[step * self.batch_size:(step + 1) * self.batch_size]

    def batch(self, epoch: int, step: int):
        """(images float32 NCHW tensor, labels int64 tensor) of ``step`` in ``epoch``."""
        idx = self.indices(epoch, step)
        x = self.augment(self.data.images[idx], local_rng(self.seed, epoch, step, stream=AUGMENT_STREAM))
        mine = slice(self.rank, None, self.world)
        return paddle.to_tensor(self.data.to_input(x[mine])), paddle.to_tensor(self.data.labels[idx][mine])


def fixed_batches(data: ImageArrays, batch_size: int, with_labels: bool = True) -> list:
    """The whole of ``data``, unaugmented, as a list of ready tensors (prepared once, reused per arch)."""
    out = []
    for start in range(0, len(data), batch_size):
        x = paddle.to_tensor(data.to_input(data.images[start:start + batch_size]))
        out.append((x, paddle.to_tensor(data.labels[start:start + batch_size])) if with_labels else x)
    return out


def calibration_subset(train: ImageArrays, n_images: int, seed: int) -> ImageArrays:
    """A fixed, seeded set of ``n_images`` training images for BN calibration."""
    n = min(n_images, len(train))
    idx = np.sort(local_rng(seed, stream=3).permutation(len(train))[:n])
    return train.subset(idx)
