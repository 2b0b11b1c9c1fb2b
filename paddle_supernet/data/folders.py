"""Class folders: ``root/<split>/<class name>/<image>``, labelled through the training class list.

Class indices come from the sorted training class folders; another split's images are
labelled by class name through that list, so a class missing from that split shifts
nothing, and a class unknown to training is refused. An empty class folder is refused.

Example:
    >>> classes = list_classes(Path("data/train"))                              # doctest: +SKIP
    >>> paths, labels = list_images(Path("data/val"), list_classes(Path("data/val")), classes)  # doctest: +SKIP
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError

IMAGE_SUFFIXES = {".jpeg", ".jpg", ".png", ".bmp"}


def list_classes(folder: Path) -> list[str]:
    """Sorted class folder names of ``folder``; :class:`InputError` when there are none."""
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
    if not classes:
        raise InputError("no class folders", file=str(folder))
    return classes


def list_images(folder: Path, classes: list[str], known: list[str] | None = None) -> tuple[list[str], np.ndarray]:
    """(paths, labels) of ``folder/<class>/*``; labels index ``known`` (default ``classes``) by name."""
    known = known or classes
    index = {name: i for i, name in enumerate(known)}
    paths, labels = [], []
    for name in classes:
        if name not in index:
            raise InputError(f"class {name!r} is not among the {len(known)} training classes", file=str(folder / name))
        files = sorted(str(p) for p in (folder / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise InputError("empty class folder (no images)", file=str(folder / name))
        paths += files
        labels += [index[name]] * len(files)
    return paths, np.asarray(labels, np.int64)
