"""Data sets by name, with the train/validation splits and subsets a config asks for.

Example:
    >>> train, val = load_dataset({"name": "fashion_mnist", "image_size": 16,
    ...                            "train_subset": 1000, "val_subset": 500})  # doctest: +SKIP
"""
from __future__ import annotations

from ..errors import InputError
from .arrays import channel_stats, seeded_subset
from .cifar100 import load_cifar100
from .fashion_mnist import load_fashion_mnist
from .image_folder import load_image_folder

DATASETS = {
    "fashion_mnist": lambda split, cfg: load_fashion_mnist("test" if split == "val" else "train", cfg.get("root"), cfg["image_size"]),
    "cifar100": lambda split, cfg: load_cifar100("test" if split == "val" else "train", cfg.get("root"), cfg["image_size"]),
    "image_folder": lambda split, cfg: load_image_folder(split, cfg.get("root"), cfg["image_size"]),
}


def _seeded_subsets(train, val, cfg: dict):
    """``train_subset`` / ``val_subset`` seeded subsets of both splits (all images when null)."""
    seed = cfg.get("subset_seed", 0)
    return (train.subset(seeded_subset(len(train), cfg.get("train_subset"), seed)),
            val.subset(seeded_subset(len(val), cfg.get("val_subset"), seed + 1)))


def load_dataset(cfg: dict):
    """(train, val) :class:`ImageArrays` for the ``data`` section of a config.

    ``train_subset`` / ``val_subset`` keep a seeded subset (``subset_seed``);
    ``mean`` / ``std`` null means: measured on the training images.
    """
    name = cfg["name"]
    if name == "imagenet":  # streamed from disk; fixed ImageNet normalisation unless the config sets one
        from .imagenet import load_imagenet

        return _seeded_subsets(*load_imagenet(cfg), cfg)
    if name not in DATASETS:
        raise InputError(f"unknown data set {name!r}; choose one of {', '.join(sorted(DATASETS) + ['imagenet'])}",
                         key="data.name")
    train, val = _seeded_subsets(DATASETS[name]("train", cfg), DATASETS[name]("val", cfg), cfg)
    if cfg.get("mean") is None or cfg.get("std") is None:
        if name != "cifar100":
            mean, std = channel_stats(train.images)
            train.mean, train.std = mean, std
    else:
        train.mean, train.std = tuple(cfg["mean"]), tuple(cfg["std"])
    val.mean, val.std = train.mean, train.std
    return train, val
