"""Search spaces registered by name (the idea of timm's model registry).

Example:
    >>> from paddle_supernet.spaces import get_space, list_spaces
    >>> "cvpr21_resnet20" in list_spaces()
    True
    >>> get_space("cvpr21_resnet20").name
    'cvpr21_resnet20'
"""
from __future__ import annotations

from typing import Callable

from ..errors import InputError
from ..registry import Registry

SPACES = Registry("search space")


def register_space(name: str) -> Callable[[type], type]:
    """Class decorator: make a :class:`SearchSpace` subclass available as ``name``."""

    def decorate(cls: type) -> type:
        cls.name = name
        return SPACES.register(name)(cls)

    return decorate


def list_spaces() -> list[str]:
    """Names of all registered spaces, sorted."""
    return SPACES.names()


def get_space(name: str, **options):
    """Instantiate the space registered as ``name`` with ``options``."""
    return SPACES.get(name)(**options)


def check_space_options(cfg: dict, file: str | None = None) -> None:
    """Check a resolved run config's ``model`` section against its space: an option another registered
    space owns (its ``model_options``) must be left off, and the space checks its own
    (``check_config``); one :class:`InputError` naming ``file`` and the key otherwise.

    Example:
        >>> check_space_options({"space": "cvpr22_resnet48", "model": {"width_map": {4: 5}}}, "c.yaml")
        Traceback (most recent call last):
        ...
        paddle_supernet.errors.InputError: c.yaml: model.width_map: is {4: 5}, an option of cvpr21_resnet20, not of cvpr22_resnet48
    """
    space = SPACES.get(cfg["space"])
    model = cfg["model"]
    for name in SPACES.names():
        for key, off in SPACES.get(name).model_options.items():
            if key not in space.model_options and model.get(key, off) != off:
                raise InputError(f"is {model[key]!r}, an option of {name}, not of {space.name}", file=file,
                                 key=f"model.{key}")
    space.check_config(cfg, file)
