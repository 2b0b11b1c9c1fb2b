"""Networks registered by search space: the supernet and the stand-alone (ground-truth) network.

Example:
    >>> model = build_supernet(cfg, num_classes=10)              # doctest: +SKIP
    >>> plain = build_standalone(cfg, code, num_classes=10, seed=0)  # doctest: +SKIP
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import InputError
from .registry import Registry

if TYPE_CHECKING:
    import paddle

#: ``fn(model_cfg, num_classes) -> Layer`` per space
SUPERNETS = Registry("supernet for search space")
#: ``fn(code, model_cfg, num_classes) -> Layer`` per space
STANDALONE = Registry("stand-alone network for search space")


@SUPERNETS.register("cvpr21_resnet20")
def _resnet20(model_cfg: dict, num_classes: int):
    from .nn.resnet20 import ResNet20Supernet

    return ResNet20Supernet(num_classes=num_classes, shortcut=model_cfg["shortcut"],
                            width_map=model_cfg.get("width_map"), activation=model_cfg["activation"],
                            branches=model_cfg.get("branches", "none"), prelu_init=model_cfg.get("prelu_init", 0.25),
                            teacher_weights=model_cfg.get("teacher_weights", "shared"),
                            freeze_teacher=model_cfg.get("freeze_teacher", False))


@STANDALONE.register("cvpr21_resnet20")
def _resnet20_standalone(code: str, model_cfg: dict, num_classes: int):
    """The official network: options enhancement, PReLU and branches are supernet-only and refused,
    so a supernet stage's config never silently trains a non-official "ground truth"."""
    from .nn.resnet20 import StandaloneResNet20

    for key, official in (("width_map", None), ("activation", "relu"), ("branches", "none")):
        if model_cfg.get(key) not in (official, {} if official is None else official):
            raise InputError(f"is {model_cfg[key]!r}, a supernet-only option: the stand-alone (ground-truth) network "
                             f"is the official one; use a recipe without it", key=f"model.{key}")
    return StandaloneResNet20(code, num_classes=num_classes, shortcut="official")


def resnet48_options(model_cfg: dict) -> dict:
    """Keyword arguments of the 2022 networks from a ``model`` config section."""
    return {"small_input": bool(model_cfg.get("small_input", False)),
            "width_scale": model_cfg.get("width_scale", 1.0)}


@SUPERNETS.register("cvpr22_resnet48")
def _resnet48(model_cfg: dict, num_classes: int):
    from .nn.resnet48 import ResNet48Supernet

    return ResNet48Supernet(num_classes=num_classes, distribution=model_cfg.get("distribution") or "test",
                            bn_stats=model_cfg.get("bn_stats", "batch"), **resnet48_options(model_cfg))


@STANDALONE.register("cvpr22_resnet48")
def _resnet48_standalone(code: str, model_cfg: dict, num_classes: int):
    from .nn.resnet48 import StandaloneResNet48

    return StandaloneResNet48(code, num_classes=num_classes, **resnet48_options(model_cfg))


def _build(builder, seed: int, *args) -> paddle.nn.Layer:
    """Weights from ``seed``; parameter names restart from zero so optimizer state saved by one
    process loads in another."""
    import paddle  # here, not at import: a space's module registers its networks without loading Paddle

    paddle.seed(seed)
    with paddle.utils.unique_name.guard():
        return builder(*args)


def build_supernet(cfg: dict, num_classes: int, seed: int | None = None) -> paddle.nn.Layer:
    """The supernet for ``cfg['space']``; weights initialised from ``seed`` (default ``cfg['seed']``)."""
    from .spaces.registry import check_space_options

    builder = SUPERNETS.get(cfg["space"], key="space")
    check_space_options(cfg)
    seed = cfg["seed"] if seed is None else seed
    contrastive = cfg["model"].get("contrastive")
    if contrastive:
        from .nn.contrastive import ContrastiveSupernet

        def build_contrastive():
            query, key = builder(cfg["model"], num_classes), builder(cfg["model"], num_classes)
            if not (hasattr(query, "features") and hasattr(query, "feature_width")):
                raise InputError(f"contrastive pretraining needs the supernet's features(x) and feature_width; "
                                 f"{type(query).__name__} ({cfg['space']}) has not both", key="model.contrastive")
            return ContrastiveSupernet(query, key, contrastive["dim"], contrastive["queue"], seed,
                                       contrastive.get("sync_neck", True))

        return _build(build_contrastive, seed)
    if not cfg["model"].get("few_shot"):
        return _build(builder, seed, cfg["model"], num_classes)
    from .nn.few_shot import FewShotSupernet
    from .spaces.routing import copy_routing

    route = copy_routing(cfg)
    return _build(lambda: FewShotSupernet([builder(cfg["model"], num_classes) for _ in range(route.copies)], route), seed)


def build_standalone(cfg: dict, code: str, num_classes: int, seed: int) -> paddle.nn.Layer:
    """The stand-alone network of ``code`` (official shortcut rule), fresh weights from ``seed``."""
    builder = STANDALONE.get(cfg["space"], key="space")
    return _build(builder, seed, code, cfg["model"], num_classes)
