"""Networks registered by search space: the supernet and the stand-alone (ground-truth) network.

Example:
    >>> model = build_supernet(cfg, num_classes=10)              # doctest: +SKIP
    >>> plain = build_standalone(cfg, code, num_classes=10, seed=0)  # doctest: +SKIP
"""
from __future__ import annotations

import paddle

from .registry import Registry

#: ``fn(model_cfg, num_classes) -> Layer`` per space
SUPERNETS = Registry("supernet for search space")
#: ``fn(code, model_cfg, num_classes) -> Layer`` per space
STANDALONE = Registry("stand-alone network for search space")


@SUPERNETS.register("cvpr21_resnet20")
def _resnet20(model_cfg: dict, num_classes: int):
    from .nn.resnet20 import ResNet20Supernet

    return ResNet20Supernet(num_classes=num_classes, shortcut=model_cfg["shortcut"],
                            width_map=model_cfg.get("width_map"), activation=model_cfg["activation"],
                            branches=model_cfg.get("branches", "none"))


@STANDALONE.register("cvpr21_resnet20")
def _resnet20_standalone(code: str, model_cfg: dict, num_classes: int):
    from .nn.resnet20 import StandaloneResNet20

    return StandaloneResNet20(code, num_classes=num_classes, shortcut="official",
                              width_map=model_cfg.get("width_map"), activation=model_cfg["activation"])


def _build(builder, seed: int, *args) -> paddle.nn.Layer:
    """Weights from ``seed``; parameter names restart from zero so optimizer state saved by one
    process loads in another."""
    paddle.seed(seed)
    with paddle.utils.unique_name.guard():
        return builder(*args)


def build_supernet(cfg: dict, num_classes: int, seed: int | None = None) -> paddle.nn.Layer:
    """The supernet for ``cfg['space']``; weights initialised from ``seed`` (default ``cfg['seed']``)."""
    builder = SUPERNETS.get(cfg["space"], key="space")
    return _build(builder, cfg["seed"] if seed is None else seed, cfg["model"], num_classes)


def build_standalone(cfg: dict, code: str, num_classes: int, seed: int) -> paddle.nn.Layer:
    """The stand-alone network of ``code`` (official shortcut rule), fresh weights from ``seed``."""
    builder = STANDALONE.get(cfg["space"], key="space")
    return _build(builder, seed, code, cfg["model"], num_classes)
