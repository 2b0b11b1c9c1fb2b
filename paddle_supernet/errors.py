"""One error type for bad input, carrying where the problem is.

Every user-facing failure (bad arch code, wrong JSON shape, missing data,
corrupted checkpoint, unknown config key) raises :class:`InputError`, whose
message names the file, the key and the problem in one line.

Example:
    >>> raise InputError("bad code", file="a.json", key="arch3")
    Traceback (most recent call last):
    ...
    paddle_supernet.errors.InputError: a.json: arch3: bad code
"""
from __future__ import annotations


class InputError(ValueError):
    """Bad user input; ``str(err)`` is ``"<file>: <key>: <problem>"``."""

    def __init__(self, problem: str, file: str | None = None, key: str | None = None):
        self.problem = problem
        self.file = None if file is None else str(file)
        self.key = key
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [p for p in (self.file, self.key) if p]
        return ": ".join(parts + [self.problem])

    def located(self, file: str | None = None, key: str | None = None) -> "InputError":
        """Return a copy that also names ``file``/``key`` where still unknown."""
        return InputError(self.problem, file=self.file or file, key=self.key or key)
