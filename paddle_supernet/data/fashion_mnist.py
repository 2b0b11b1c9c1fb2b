"""Fashion-MNIST from Debian's ``dataset-fashion-mnist`` package: the embedded default data.

Adaptation to the 3-channel 32x32 input of the challenge networks: each 28x28
gray image is zero-padded by 2 pixels on every side (28 -> 32, no
interpolation), resized with PIL bilinear when another ``image_size`` is asked
for, and repeated over 3 channels; mean and std are those of the adapted
training images.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from ..errors import InputError
from .arrays import ImageArrays, resize_images

DEFAULT_ROOT = "/usr/share/datasets/fashion-mnist"
HOW_TO_GET = "install it with `apt-get install dataset-fashion-mnist` (or `bash tools/install.sh --data`)"
_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
          "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def _read_idx(path: Path, magic: int) -> np.ndarray:
    if not path.is_file():
        raise InputError(f"Fashion-MNIST file not found; {HOW_TO_GET}", file=str(path))
    try:
        with gzip.open(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as err:
        raise InputError(f"cannot read gzip idx file ({err})", file=str(path)) from None
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise InputError(f"not an idx file with magic {magic} (found {found})", file=str(path))
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(magic & 0xFF)]
    body = np.frombuffer(data, np.uint8, offset=4 + 4 * len(dims))
    if body.size != int(np.prod(dims)):
        raise InputError(f"truncated idx file: {body.size} bytes for shape {dims}", file=str(path))
    return body.reshape(dims)


def load_fashion_mnist(split: str, root: str | None = None, image_size: int = 32) -> ImageArrays:
    """``split`` 'train' (60,000) or 'test' (10,000), adapted to ``image_size`` (see module doc)."""
    root_path = Path(root or DEFAULT_ROOT)
    images_name, labels_name = _FILES[split]
    images = _read_idx(root_path / images_name, 2051)
    labels = _read_idx(root_path / labels_name, 2049).astype(np.int64)
    images = np.pad(images, ((0, 0), (2, 2), (2, 2)))[..., None]
    return ImageArrays(resize_images(images, image_size), labels, num_classes=10)
