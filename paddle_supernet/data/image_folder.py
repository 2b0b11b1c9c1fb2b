"""Users' own data: ``root/<split>/<class name>/<image>`` (PNG, JPEG, BMP), labelled through the
sorted training class folders (see :mod:`paddle_supernet.data.folders`).

Images are converted to RGB, resized to ``image_size`` and held in memory,
which suits small and medium sets (ImageNet needs a streaming loader).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import InputError
from .folders import list_classes, list_images


def load_image_folder(split: str, root: str | None, image_size: int = 32, classes: list[str] | None = None):
    """Load ``root/split``; labels index ``classes`` (default: the sorted training class folders) by name."""
    from .arrays import ImageArrays

    if not root:
        raise InputError("data.root is not set for the image_folder data set (expected root/<split>/<class>/<image>)")
    folder = Path(root) / split
    if not folder.is_dir():
        raise InputError(f"folder not found (expected {folder}/<class>/<image>)", file=str(folder))
    train_folder = Path(root) / "train"
    known = classes or list_classes(train_folder if train_folder.is_dir() else folder)
    paths, labels = list_images(folder, list_classes(folder), known)
    images = []
    for path in paths:
        try:
            with Image.open(path) as img:
                images.append(np.asarray(img.convert("RGB").resize((image_size, image_size), Image.BILINEAR), np.uint8))
        except (UnidentifiedImageError, OSError) as err:
            raise InputError(f"cannot read image ({err})", file=str(path)) from None
    return ImageArrays(np.stack(images), labels, num_classes=len(known))
