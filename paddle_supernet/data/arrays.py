"""In-memory image sets and the shape adaptation every loader shares.

Images are kept as uint8 NHWC (1 or 3 channels) at the training resolution;
the network always sees 3 channels (gray images are repeated) and
normalised float32 NCHW.

Example:
    >>> data = ImageArrays(np.zeros((2, 8, 8, 1), np.uint8), np.array([0, 1]), num_classes=2)
    >>> data.to_input(data.images).shape
    (2, 3, 8, 8)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass
class ImageArrays:
    """Images (uint8, N x H x W x C) with int64 labels and the normalisation to apply."""

    images: np.ndarray
    labels: np.ndarray
    num_classes: int
    mean: tuple = (0.5, 0.5, 0.5)
    std: tuple = (0.25, 0.25, 0.25)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices) -> "ImageArrays":
        return ImageArrays(self.images[indices], self.labels[indices], self.num_classes, self.mean, self.std)

    def content_digest(self) -> str:
        """A short SHA-256 of the images, labels and normalisation: what a submission was scored on."""
        import hashlib

        h = hashlib.sha256()
        for array in (np.ascontiguousarray(self.images), np.ascontiguousarray(self.labels, dtype=np.int64),
                      np.asarray(self.mean, np.float64), np.asarray(self.std, np.float64)):
            h.update(str(array.shape).encode())
            h.update(array.tobytes())
        return h.hexdigest()[:16]

    # ---- the data interface the loop and the evaluator use (shared with the streamed ImageNet) ----
    def train_batches(self, batch_size: int, augment: dict, seed: int, shard: tuple = (0, 1), views: int = 1,
                      order: str = "shuffled"):
        """Augmented training batches addressed by (epoch, step) (:class:`~.batches.TrainBatches`)."""
        from .batches import Augment, TrainBatches

        return TrainBatches(self, batch_size, Augment(**augment), seed, shard=shard, views=views, order=order)

    def eval_batches(self, batch_size: int, with_labels: bool = True) -> list:
        """The whole set, unaugmented, as ready tensors (prepared once)."""
        from .batches import fixed_batches

        return fixed_batches(self, batch_size, with_labels)

    def calibration_batches(self, n_images: int, batch_size: int, seed: int, augment: dict | None = None) -> list:
        """A fixed, seeded subset of ``n_images`` images for BN calibration, as ready tensors;
        ``augment`` (the ``data.augment`` options): augmented once, with a fixed seed."""
        import paddle

        from ..rng import local_rng
        from .batches import Augment, calibration_subset, fixed_batches

        subset = calibration_subset(self, n_images, seed)
        if not augment:
            return fixed_batches(subset, batch_size, with_labels=False)
        images = Augment(**augment)(subset.images, local_rng(seed, stream=5))
        return [paddle.to_tensor(self.to_input(images[s:s + batch_size])) for s in range(0, len(images), batch_size)]

    def to_input(self, images_uint8_or_float: np.ndarray) -> np.ndarray:
        """uint8 (or float in [0, 1]) NHWC -> normalised float32 NCHW with 3 channels."""
        x = images_uint8_or_float
        x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
        if x.shape[-1] == 1:
            x = np.repeat(x, 3, axis=-1)
        x = (x - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """Resize uint8 NHWC images to ``size`` x ``size`` (PIL bilinear with antialiasing)."""
    if images.shape[1] == size and images.shape[2] == size:
        return images
    out = np.empty((len(images), size, size, images.shape[3]), np.uint8)
    for i, image in enumerate(images):
        pil = Image.fromarray(image[..., 0] if image.shape[2] == 1 else image)
        resized = np.asarray(pil.resize((size, size), Image.BILINEAR))
        out[i] = resized.reshape(size, size, -1)
    return out


def channel_stats(images: np.ndarray) -> tuple[tuple, tuple]:
    """Per-channel mean and std in [0, 1] units, expanded to 3 channels."""
    x = images.astype(np.float64) / 255.0
    mean = x.mean(axis=(0, 1, 2))
    std = x.std(axis=(0, 1, 2))
    if len(mean) == 1:
        mean, std = np.repeat(mean, 3), np.repeat(std, 3)
    return tuple(float(v) for v in mean), tuple(float(v) for v in std)


def seeded_subset(n_total: int, n: int | None, seed: int) -> np.ndarray:
    """The first ``n`` indices of a permutation seeded by ``seed`` (all, in order, when ``n`` is None)."""
    if n is None or n >= n_total:
        return np.arange(n_total)
    return np.sort(np.random.Generator(np.random.PCG64(seed)).permutation(n_total)[:n])
