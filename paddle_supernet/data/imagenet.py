"""ImageNet-style folders, streamed from disk through ``paddle.io.DataLoader`` workers.

``root/train/<class>/*.JPEG`` and ``root/val/<class>/*.JPEG`` (any PIL-readable
image). Class indices come from the sorted training class folders; validation
images are labelled by class name through that list (a validation class
unknown to training is refused). Nothing is held in memory but file lists and
the fixed BN calibration set.

- train: RandomResizedCrop(``image_size``, scale ``crop_scale``, ratio 3/4-4/3,
  bilinear) + horizontal flip, drawn from the local RNG of (seed, epoch, step,
  position in the global batch): batches are a function of (seed, epoch, step),
  each data-parallel rank decodes its share, and a resumed run sees the same batches;
- val and calibration (default): Resize(``resize`` short side) + CenterCrop(``image_size``);
- normalisation: ImageNet mean/std (or the config's).

The pixel work is ``paddle.vision.transforms.functional``; only the random
crop box is drawn here, from a local generator instead of Python's global one.

Example:
    >>> train, val = load_imagenet({"root": "data/ILSVRC2012", "image_size": 224, "resize": 256})  # doctest: +SKIP
    >>> batches = train.train_batches(256, None, seed=0)                                       # doctest: +SKIP
    >>> images, labels = batches.batch(epoch=0, step=0)                                          # doctest: +SKIP
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import paddle
from paddle.vision.transforms import functional as VF
from PIL import Image, UnidentifiedImageError

from ..errors import InputError
from ..rng import local_rng
from .batches import epoch_order
from .folders import list_classes, list_images

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
AUGMENT_STREAM, CALIBRATION_STREAM = 1, 3  # the shuffle stream is epoch_order's


def random_resized_crop_box(rng: np.random.Generator, width: int, height: int, scale=(0.08, 1.0),
                            ratio=(3 / 4, 4 / 3)) -> tuple[int, int, int, int]:
    """(top, left, h, w) of a RandomResizedCrop: up to 10 tries of a random area and aspect ratio,
    else the largest centre crop within the ratio range (the usual algorithm).

    >>> random_resized_crop_box(np.random.default_rng(0), 100, 50, scale=(1.0, 1.0), ratio=(1.0, 1.0))
    (0, 25, 50, 50)
    """
    area = width * height
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target = area * rng.uniform(scale[0], scale[1])
        aspect = math.exp(rng.uniform(*log_ratio))
        w = int(round(math.sqrt(target * aspect)))
        h = int(round(math.sqrt(target / aspect)))
        if 0 < w <= width and 0 < h <= height:
            return int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1)), h, w
    in_ratio = width / height
    if in_ratio < ratio[0]:
        w, h = width, int(round(width / ratio[0]))
    elif in_ratio > ratio[1]:
        h, w = height, int(round(height * ratio[1]))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


class _Decode(paddle.io.Dataset):
    """Items addressed by ``(index, key)``: ``key`` None = eval transform, else the seed tuple of its RNG."""

    def __init__(self, paths: list[str], labels: np.ndarray, image_size: int, resize: int, crop_scale, mean, std):
        super().__init__()
        self.paths, self.labels = paths, labels
        self.image_size, self.resize, self.crop_scale = image_size, resize, tuple(crop_scale)
        self.mean = np.asarray(mean, np.float32).reshape(3, 1, 1)
        self.std = np.asarray(std, np.float32).reshape(3, 1, 1)

    def __len__(self) -> int:
        return len(self.paths)

    def image(self, index: int, key) -> np.ndarray:
        """uint8 HWC after the train (``key`` given) or eval transform."""
        path = self.paths[index]
        try:
            with Image.open(path) as img:
                img = img.convert("RGB")
        except (UnidentifiedImageError, OSError) as err:
            raise InputError(f"cannot read image ({err})", file=path) from None
        size = self.image_size
        if key is None:
            img = VF.center_crop(VF.resize(img, self.resize, interpolation="bilinear"), size)
        else:
            rng = local_rng(*key, stream=AUGMENT_STREAM)
            top, left, h, w = random_resized_crop_box(rng, img.width, img.height, self.crop_scale)
            img = VF.resize(VF.crop(img, top, left, h, w), (size, size), interpolation="bilinear")
            if rng.random() < 0.5:
                img = VF.hflip(img)
        return np.asarray(img, np.uint8)

    def normalise(self, hwc: np.ndarray) -> np.ndarray:
        return (hwc.transpose(2, 0, 1).astype(np.float32) / 255.0 - self.mean) / self.std

    def __getitem__(self, item):
        """(normalised image, label, 1), or zeros with flag 0 for an unreadable file: an exception
        raised here would hang Paddle's single-process DataLoader, so the reader raises instead."""
        index, key = item
        try:
            image = self.normalise(self.image(index, key))
        except InputError:
            return np.zeros((3, self.image_size, self.image_size), np.float32), self.labels[index], np.int64(0)
        return image, self.labels[index], np.int64(1)


class _IndexBatches(paddle.io.Sampler):
    """Yields lists of ``(index, key)`` items: one list per batch."""

    def __init__(self, batches: list):
        super().__init__()
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


class StreamedTrainBatches:
    """Training batches addressed by (epoch, step), decoded by ``workers`` DataLoader processes.

    Consecutive requests stream from one loader; any other request (a resume) starts a new one there.
    """

    def __init__(self, source: "ImageFolderStream", batch_size: int, seed: int, shard: tuple = (0, 1), views: int = 1,
                 order: str = "shuffled"):
        if len(source) < batch_size:
            raise InputError(f"is {batch_size}, more than the {len(source)} training images", key="data.batch_size")
        if batch_size % shard[1]:
            raise InputError(f"global batch {batch_size} does not split evenly over {shard[1]} ranks", key="data.batch_size")
        self.source, self.batch_size, self.seed, self.views, self.order = source, batch_size, seed, views, order
        self.rank, self.world = shard
        self._iter, self._next = None, None
        self._order_epoch, self._order_cache = None, None

    @property
    def steps_per_epoch(self) -> int:
        return len(self.source) // self.batch_size

    def _order(self, epoch: int) -> np.ndarray:
        if self._order_epoch != epoch:
            self._order_cache = epoch_order(self.seed, epoch, self.source.decode.labels, self.order)
            self._order_epoch = epoch
        return self._order_cache

    def items(self, epoch: int, step: int) -> list:
        """This rank's ``(index, rng key)`` items of batch ``step`` of ``epoch``."""
        idx = self._order(epoch)[step * self.batch_size:(step + 1) * self.batch_size]
        return [(int(idx[p]), (self.seed, epoch, step, p + v * self.batch_size))  # view v: its own crop and flip
                for v in range(self.views) for p in range(self.rank, self.batch_size, self.world)]

    def _loader(self, epoch: int, step: int):
        return self.source.stream([self.items(epoch, s) for s in range(step, self.steps_per_epoch)])

    def batch(self, epoch: int, step: int):
        """(images float32 NCHW, labels int64) of ``step`` in ``epoch`` for this rank."""
        if self._next != (epoch, step):
            self._iter = self._loader(epoch, step)
        images, labels = next(self._iter)
        self._next = (epoch, step + 1)
        return images, labels[: labels.shape[0] // self.views]


class _Reiterable:
    def __init__(self, make):
        self.make = make

    def __iter__(self):
        return self.make()


class ImageFolderStream:
    """One split of an ImageNet-style folder; see the module docstring."""

    def __init__(self, decode: _Decode, num_classes: int, workers: int = 0):
        self.decode, self.num_classes, self.workers = decode, num_classes, workers

    @property
    def mean(self):
        return tuple(float(v) for v in self.decode.mean.ravel())

    @property
    def std(self):
        return tuple(float(v) for v in self.decode.std.ravel())

    def __len__(self) -> int:
        return len(self.decode)

    def content_digest(self) -> str:
        """A short SHA-256 of every image file's path, size and modification time, the labels and the
        transform settings (the files are not read: a 50,000-image folder stays cheap)."""
        import hashlib
        import os

        d, h = self.decode, hashlib.sha256()
        h.update(repr((d.image_size, d.resize, d.crop_scale, d.mean.ravel().tolist(), d.std.ravel().tolist())).encode())
        for path, label in zip(d.paths, d.labels.tolist()):
            stat = os.stat(path)
            h.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0{label}\n".encode())
        return h.hexdigest()[:16]

    def subset(self, indices) -> "ImageFolderStream":
        d = self.decode
        paths = [d.paths[i] for i in indices]
        return ImageFolderStream(_Decode(paths, d.labels[np.asarray(indices, np.int64)], d.image_size, d.resize,
                                         d.crop_scale, d.mean.ravel(), d.std.ravel()), self.num_classes, self.workers)

    def stream(self, batches: list):
        """Yield (images, int64 labels) of each list of ``(index, key)`` items, decoded by a DataLoader;
        an unreadable image raises :class:`InputError` naming its file."""
        loader = paddle.io.DataLoader(self.decode, batch_sampler=_IndexBatches(batches), num_workers=self.workers)
        for items, (images, labels, readable) in zip(batches, loader):
            flags = readable.numpy().ravel()
            if not flags.all():
                self.decode.image(*items[int(np.argmin(flags))])  # raises with the file and the reason
            yield images, labels.astype("int64").reshape([-1])

    # ---- the data interface the loop and the evaluator use ------------------------------------
    def train_batches(self, batch_size: int, augment, seed: int, shard: tuple = (0, 1), views: int = 1,
                      order: str = "shuffled") -> StreamedTrainBatches:
        """Augmented training batches (``augment``, the 2021 in-memory options, does not apply here)."""
        return StreamedTrainBatches(self, batch_size, seed, shard, views=views, order=order)

    def eval_batches(self, batch_size: int, with_labels: bool = True):
        """The whole split with the eval transform, streamed anew at every pass."""
        batches = [[(i, None) for i in range(s, min(s + batch_size, len(self)))] for s in range(0, len(self), batch_size)]

        def make():
            for images, labels in self.stream(batches):
                yield (images, labels) if with_labels else images
        return _Reiterable(make)

    def calibration_batches(self, n_images: int, batch_size: int, seed: int, augment=None) -> list:
        """A fixed, seeded set of ``n_images`` training images (eval transform unless ``augment``
        is set: then the training transform, drawn once), decoded once and kept as uint8; each
        pass yields normalised tensors."""
        n = min(n_images, len(self))
        idx = np.sort(local_rng(seed, stream=CALIBRATION_STREAM).permutation(len(self))[:n])
        keys = [(int(i), (seed, 0, 0, int(p)) if augment else None) for p, i in enumerate(idx)]
        cached = []
        for start in range(0, n, batch_size):
            cached.append(np.stack([self.decode.image(i, key) for i, key in keys[start:start + batch_size]]))

        def make():
            for batch in cached:
                yield paddle.to_tensor(np.stack([self.decode.normalise(img) for img in batch]))
        return _Reiterable(make)


def load_imagenet(cfg: dict) -> tuple[ImageFolderStream, ImageFolderStream]:
    """(train, val) streams of ``cfg['root']`` (see the module docstring for the keys used)."""
    if not cfg.get("root"):
        raise InputError("data.root is not set for the imagenet data set (expected root/train/<class>/*.JPEG)",
                         key="data.root")
    root = Path(cfg["root"])
    for split in ("train", "val"):
        if not (root / split).is_dir():
            raise InputError(f"folder not found (expected {root / split}/<class>/<image>)", file=str(root / split))
    classes = list_classes(root / "train")
    mean = tuple(cfg.get("mean") or IMAGENET_MEAN)
    std = tuple(cfg.get("std") or IMAGENET_STD)
    size, resize = int(cfg["image_size"]), int(cfg.get("resize") or round(cfg["image_size"] * 256 / 224))
    crop_scale = tuple(cfg.get("crop_scale") or (0.08, 1.0))
    workers = int(cfg.get("workers") or 0)
    out = []
    for split in ("train", "val"):
        paths, labels = list_images(root / split, list_classes(root / split) if split == "val" else classes, classes)
        out.append(ImageFolderStream(_Decode(paths, labels, size, resize, crop_scale, mean, std), len(classes), workers))
    return out[0], out[1]
