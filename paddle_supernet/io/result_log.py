"""Append-only JSON-lines result logs that survive being killed mid-write.

Each finished unit of work (an evaluated arch, a trained arch and seed) is one
line, flushed and synced. Reading drops a torn last line (the one a killed
writer left) and truncates it away, so appending resumes on a fresh line.

Example:
    >>> log = ResultLog("runs/x/submission.json.part")   # doctest: +SKIP
    >>> done = log.rows()                                # doctest: +SKIP
    >>> log.append({"key": "arch3", "arch": "...", "acc": 0.7})  # doctest: +SKIP
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import InputError


class ResultLog:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def rows(self, repair: bool = True) -> list[dict]:
        """Every complete row; :class:`InputError` for a damaged line that is not the last.
        ``repair``: drop a torn last line from the file (only its writer may; others read only)."""
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").split("\n")
        rows, good_bytes = [], 0
        for number, line in enumerate(lines, start=1):
            if not line:
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError
            except ValueError:
                if number == len(lines):  # unterminated last line of a killed writer
                    break
                raise InputError(f"line {number} is not a JSON result row; delete the file to start over",
                                 file=str(self.path)) from None
            rows.append(row)
            good_bytes += len(line.encode("utf-8")) + 1
        if not repair:
            return rows
        size = self.path.stat().st_size
        with open(self.path, "r+b") as handle:
            if good_bytes > size:  # a complete last row without its newline: complete it
                handle.seek(size)
                handle.write(b"\n")
            else:
                handle.truncate(good_bytes)
        return rows

    def append(self, row: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
