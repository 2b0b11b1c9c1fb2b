"""Supernets registered by search space, built from a run config.

Example:
    >>> model = build_supernet(cfg, num_classes=10)  # doctest: +SKIP
"""
from __future__ import annotations

import paddle

from .errors import InputError

_BUILDERS = {}


def register_supernet(space_name: str):
    """Decorator: ``fn(model_cfg, num_classes) -> paddle.nn.Layer`` builds the supernet of ``space_name``."""

    def decorate(fn):
        _BUILDERS[space_name] = fn
        return fn

    return decorate


@register_supernet("cvpr21_resnet20")
def _resnet20(model_cfg: dict, num_classes: int):
    from .nn.resnet20 import ResNet20Supernet

    width_map = model_cfg.get("width_map")
    return ResNet20Supernet(num_classes=num_classes, shortcut=model_cfg["shortcut"],
                            width_map=width_map, activation=model_cfg["activation"])


def build_supernet(cfg: dict, num_classes: int, seed: int | None = None) -> paddle.nn.Layer:
    """The supernet for ``cfg['space']``; weights initialised from ``seed`` (default ``cfg['seed']``).

    Parameter names restart from zero (``unique_name.guard``), so optimizer
    state saved by one process loads in another.
    """
    space = cfg["space"]
    if space not in _BUILDERS:
        raise InputError(f"no supernet is implemented for space {space!r} yet (have: {', '.join(sorted(_BUILDERS))})", key="space")
    paddle.seed(cfg["seed"] if seed is None else seed)
    with paddle.utils.unique_name.guard():
        return _BUILDERS[space](cfg["model"], num_classes)
