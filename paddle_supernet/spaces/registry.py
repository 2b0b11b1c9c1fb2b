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
