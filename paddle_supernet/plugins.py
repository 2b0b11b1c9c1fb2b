"""Modules a run imports for what they register: a search space, its networks, a strategy.

A config lists them under ``custom_imports`` (the command line: ``paddle-supernet --import
MODULE ...``); each is imported before the config's names are looked up, from the installed
packages or the working directory (the idea of mmengine's ``custom_imports``).

Example:
    >>> import_modules(["examples.plain_cnn"])   # registers the space plain_cnn  # doctest: +SKIP
"""
from __future__ import annotations

import importlib
import os
import sys

from .errors import InputError


def import_modules(names, file: str | None = None, key: str | None = "custom_imports") -> None:
    """Import every module in ``names``; one that cannot be imported is an :class:`InputError`
    naming ``file``, ``key`` and the module (its error's first line)."""
    for name in names or []:
        if name in sys.modules:
            continue
        if os.getcwd() not in sys.path:  # the console script's path lacks it; after the installed packages
            sys.path.append(os.getcwd())
        try:
            importlib.import_module(name)
        except SystemExit as stop:  # a module that exits (a script, not a module) would end the run silently
            raise InputError(f"cannot import module {name!r}: it called sys.exit({stop.code!r}) when imported (a "
                             "script rather than a module?)", file=file, key=key) from None
        except Exception as error:  # noqa: BLE001 (a user's module: any failure is this input's problem)
            first = (str(error).splitlines() or [""])[0]
            raise InputError(f"cannot import module {name!r}: {type(error).__name__}: {first} (a module importable "
                             "from the working directory or installed)", file=file, key=key) from error
