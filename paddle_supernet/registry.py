"""Name -> object registries (spaces, supernets, stand-alone networks, strategies).

Example:
    >>> colours = Registry("colour")
    >>> @colours.register("red")
    ... def red(): return "#f00"
    >>> colours.get("red")()
    '#f00'
"""
from __future__ import annotations

from typing import Callable

from .errors import InputError


class Registry:
    """Objects registered by name; :meth:`get` of an unknown name raises :class:`InputError` listing the known ones."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, object] = {}

    def register(self, name: str) -> Callable:
        def decorate(obj):
            if name in self._items and self._items[name] is not obj:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._items[name] = obj
            return obj

        return decorate

    def get(self, name: str, file: str | None = None, key: str | None = None):
        if name not in self._items:
            raise InputError(f"unknown {self.kind} {name!r}; known: {', '.join(self.names()) or 'none'}", file=file, key=key)
        return self._items[name]

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self._items
