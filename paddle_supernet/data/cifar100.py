"""CIFAR-100 from the standard ``cifar-100-python.tar.gz`` pickle tarball."""
from __future__ import annotations

import pickle
import tarfile
from pathlib import Path

import numpy as np

from ..errors import InputError
from .arrays import ImageArrays, resize_images

TARBALL = "cifar-100-python.tar.gz"
#: the official normalisation of the 2021 challenge
MEAN, STD = (0.5071, 0.4865, 0.4409), (0.1942, 0.1918, 0.1958)
HOW_TO_GET = ("download cifar-100-python.tar.gz from the CIFAR home page (www.cs.toronto.edu/~kriz/cifar.html) "
              "and set data.root to it or to its folder")


def load_cifar100(split: str, root: str | None, image_size: int = 32) -> ImageArrays:
    """``split`` 'train' (50,000) or 'test' (10,000) with fine labels."""
    if not root:
        raise InputError(f"data.root is not set for CIFAR-100; {HOW_TO_GET}")
    path = Path(root)
    if path.is_dir():
        path = path / TARBALL
    if not path.is_file():
        raise InputError(f"CIFAR-100 tarball not found; {HOW_TO_GET}", file=str(path))
    member = f"cifar-100-python/{split}"
    try:
        with tarfile.open(path, "r:gz") as tar:
            handle = tar.extractfile(member)
            if handle is None:
                raise KeyError(member)
            batch = pickle.load(handle, encoding="bytes")
    except KeyError:
        raise InputError(f"no member {member!r} in the tarball", file=str(path)) from None
    except (tarfile.TarError, OSError, EOFError, pickle.UnpicklingError) as err:
        raise InputError(f"cannot read the CIFAR-100 tarball ({err})", file=str(path)) from None
    try:
        data, labels = batch[b"data"], batch[b"fine_labels"]
    except (KeyError, TypeError):
        raise InputError(f"member {member!r} lacks b'data' / b'fine_labels'", file=str(path)) from None
    images = np.asarray(data, np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return ImageArrays(resize_images(np.ascontiguousarray(images), image_size), np.asarray(labels, np.int64),
                       num_classes=100, mean=MEAN, std=STD)
