"""Users' own data: ``root/<split>/<class name>/<image>`` (PNG, JPEG, BMP), classes sorted by name.

Images are converted to RGB, resized to ``image_size`` and held in memory,
which suits small and medium sets (ImageNet needs a streaming loader).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import InputError

_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp"}


def load_image_folder(split: str, root: str | None, image_size: int = 32, classes: list[str] | None = None):
    """Load ``root/split``; ``classes`` fixes the label order (default: sorted folder names)."""
    from .arrays import ImageArrays

    if not root:
        raise InputError("data.root is not set for the image_folder data set (expected root/<split>/<class>/<image>)")
    folder = Path(root) / split
    if not folder.is_dir():
        raise InputError(f"folder not found (expected {folder}/<class>/<image>)", file=str(folder))
    classes = classes or sorted(p.name for p in folder.iterdir() if p.is_dir())
    if not classes:
        raise InputError("no class folders", file=str(folder))
    images, labels = [], []
    for label, name in enumerate(classes):
        for path in sorted((folder / name).iterdir()) if (folder / name).is_dir() else []:
            if path.suffix.lower() not in _SUFFIXES:
                continue
            try:
                with Image.open(path) as img:
                    img = img.convert("RGB").resize((image_size, image_size), Image.BILINEAR)
                    images.append(np.asarray(img, np.uint8))
            except (UnidentifiedImageError, OSError) as err:
                raise InputError(f"cannot read image ({err})", file=str(path)) from None
            labels.append(label)
    if not images:
        raise InputError("no images found", file=str(folder))
    return ImageArrays(np.stack(images), np.asarray(labels, np.int64), num_classes=len(classes))
