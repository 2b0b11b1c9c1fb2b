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

_SPACES: dict[str, type] = {}


def register_space(name: str) -> Callable[[type], type]:
    """Class decorator: make a :class:`SearchSpace` subclass available as ``name``."""

    def decorate(cls: type) -> type:
        if name in _SPACES and _SPACES[name] is not cls:
            raise ValueError(f"search space {name!r} is already registered")
        cls.name = name
        _SPACES[name] = cls
        return cls

    return decorate


def list_spaces() -> list[str]:
    """Names of all registered spaces, sorted."""
    return sorted(_SPACES)


def get_space(name: str, **options):
    """Instantiate the space registered as ``name`` with ``options``."""
    try:
        cls = _SPACES[name]
    except KeyError:
        raise InputError(f"unknown search space {name!r}; known spaces: {', '.join(list_spaces())}") from None
    return cls(**options)
