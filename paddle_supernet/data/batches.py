"""Deterministic batches: the batch at (epoch, step) depends on the seed alone.

That is what lets a killed run resume to exactly the weights of an
uninterrupted one. Augmentation follows the 2021 winner's released code: random
crop with padding, brightness and contrast (each with p = 0.5), horizontal flip,
rotation; every part can be switched off in the config.

Example:
    >>> batches = TrainBatches(train, batch_size=64, augment=Augment(crop_padding=4, flip=True), seed=0)  # doctest: +SKIP
    >>> x, y = batches.batch(epoch=0, step=3)  # doctest: +SKIP
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import paddle
from PIL import Image, ImageEnhance

from ..errors import InputError
from ..rng import local_rng

if TYPE_CHECKING:  # annotations only: arrays builds batches, so importing it here would be a circle
    from .arrays import ImageArrays

AUGMENT_STREAM, SHUFFLE_STREAM = 1, 2
ORDERS = ("shuffled", "class_sorted")


def epoch_order(seed: int, epoch: int, labels: np.ndarray, order: str = "shuffled") -> np.ndarray:
    """The image indices of ``epoch`` in training order: a seeded permutation per epoch, or
    ``class_sorted`` (by label, stable; the same every epoch, as an unshuffled class folder).

    >>> epoch_order(0, 3, np.array([2, 0, 1, 0]), "class_sorted").tolist()
    [1, 3, 2, 0]
    """
    if order == "class_sorted":
        return np.argsort(np.asarray(labels), kind="stable")
    if order != "shuffled":
        raise InputError(f"must be one of {', '.join(ORDERS)}, got {order!r}", key="data.order")
    return local_rng(seed, epoch, stream=SHUFFLE_STREAM).permutation(len(labels))


@dataclass
class Augment:
    """Batch augmentation on uint8 NHWC images, as the 2021 winner's released code; float32 NHWC in [0, 1] out.

    Order and arithmetic follow the released transforms: random crop with zero padding;
    brightness (PIL ``ImageEnhance.Brightness``: times a factor in [1 - b, 1 + b], rounded to
    uint8) with probability ``probability``; contrast likewise (PIL ``ImageEnhance.Contrast``:
    blended with the rounded mean of the image's grey level); horizontal flip (p = 0.5);
    rotation by an angle in [-r, r] degrees, nearest neighbour, zero fill (PIL ``rotate``).
    Each enabled part draws from ``rng`` in that order; disabled parts draw nothing.
    """

    crop_padding: int = 0
    resized_crop: tuple | None = None  # [low, high] area range: RandomResizedCrop (bilinear) instead of the padded crop
    flip: bool = False
    brightness: float = 0.0
    contrast: float = 0.0
    rotation: float = 0.0
    probability: float = 0.5

    def __call__(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        x = np.array(images, dtype=np.uint8, copy=True)
        n, h, w, _ = x.shape
        if self.resized_crop:
            x = np.stack([self._resized_crop(image, rng) for image in x])
        elif self.crop_padding:
            p = self.crop_padding
            padded = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
            dy, dx = rng.integers(0, 2 * p + 1, size=n), rng.integers(0, 2 * p + 1, size=n)
            x = np.stack([padded[i, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])
        for amount, enhance in ((self.brightness, ImageEnhance.Brightness), (self.contrast, ImageEnhance.Contrast)):
            if amount:
                apply = rng.random(n) < self.probability
                factor = rng.uniform(max(0.0, 1 - amount), 1 + amount, n)
                for i in np.flatnonzero(apply):
                    x[i] = _from_pil(enhance(_to_pil(x[i])).enhance(float(factor[i])), x[i].shape)
        if self.flip:
            mirror = rng.random(n) < 0.5
            x[mirror] = x[mirror, :, ::-1]
        if self.rotation:
            angles = rng.uniform(-self.rotation, self.rotation, size=n)
            for i in range(n):
                x[i] = _from_pil(_to_pil(x[i]).rotate(float(angles[i]), Image.NEAREST, fillcolor=0), x[i].shape)
        return x.astype(np.float32) / 255.0


    def _resized_crop(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        from .imagenet import random_resized_crop_box

        h, w = image.shape[:2]
        top, left, ch, cw = random_resized_crop_box(rng, w, h, tuple(self.resized_crop))
        crop = _to_pil(image[top:top + ch, left:left + cw])
        return _from_pil(crop.resize((w, h), Image.BILINEAR), image.shape)


def _to_pil(image: np.ndarray) -> Image.Image:
    return Image.fromarray(image[..., 0] if image.shape[2] == 1 else image)


def _from_pil(image: Image.Image, shape) -> np.ndarray:
    return np.asarray(image, np.uint8).reshape(shape)


class TrainBatches:
    """Shuffled, augmented training batches addressed by (epoch, step); the last partial batch is dropped."""

    def __init__(self, data: ImageArrays, batch_size: int, augment: Augment, seed: int, shard: tuple = (0, 1),
                 views: int = 1, order: str = "shuffled"):
        """``batch_size`` is the global batch; with ``shard=(rank, world)`` this process gets every
        world-th image of it (data-parallel training), augmented exactly as in a single process.
        ``views`` > 1: each image augmented that many times independently, the views concatenated
        (view 0 first, as the single-view batch) and the labels given once (contrastive training)."""
        if len(data) < batch_size:
            raise InputError(f"is {batch_size}, more than the {len(data)} training images", key="data.batch_size")
        if batch_size % shard[1]:
            raise InputError(f"global batch {batch_size} does not split evenly over {shard[1]} ranks", key="data.batch_size")
        self.data, self.batch_size, self.augment, self.seed = data, batch_size, augment, seed
        self.rank, self.world = shard
        self.views, self.order = views, order
        self._order_epoch, self._order = None, None

    @property
    def steps_per_epoch(self) -> int:
        return len(self.data) // self.batch_size

    def indices(self, epoch: int, step: int) -> np.ndarray:
        if self._order_epoch != epoch:
            self._order = epoch_order(self.seed, epoch, self.data.labels, self.order)
            self._order_epoch = epoch
        return self._order[step * self.batch_size:(step + 1) * self.batch_size]

    def batch(self, epoch: int, step: int):
        """(images float32 NCHW tensor, labels int64 tensor) of ``step`` in ``epoch``."""
        idx = self.indices(epoch, step)
        mine = slice(self.rank, None, self.world)
        views = [self.augment(self.data.images[idx], local_rng(self.seed, epoch, step, v, stream=AUGMENT_STREAM))[mine]
                 for v in range(self.views)]
        x = views[0] if self.views == 1 else np.concatenate(views)
        return paddle.to_tensor(self.data.to_input(x)), paddle.to_tensor(self.data.labels[idx][mine])


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
