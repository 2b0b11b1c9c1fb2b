"""What produced a finished submission, kept beside it so that it is not scored twice.

``submission.json.record`` holds the evaluation header (checkpoint fingerprint and step,
eval and data settings, arch list digest) and the SHA-256 of the submission's bytes. An
evaluation with the same header returns the file as it is; any other header, or an
edited file, means scoring again.

Example:
    >>> write_record("runs/x/submission.json", {"produced_by": producer})    # doctest: +SKIP
    >>> finished_submission("runs/x/submission.json", {"produced_by": producer})  # doctest: +SKIP
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .atomic import atomic_write_text
from .challenge_json import ArchList, parse_arch_text


def record_path(out_path: str | os.PathLike) -> Path:
    """The record of ``out_path``: ``submission.json`` -> ``submission.json.record``."""
    out_path = Path(out_path)
    return out_path.with_name(out_path.name + ".record")


def write_record(out_path: str | os.PathLike, header: dict) -> None:
    """Record (atomically) that ``header`` produced the submission now at ``out_path``."""
    digest = _sha256(Path(out_path).read_bytes())
    atomic_write_text(record_path(out_path), json.dumps({**header, "sha256": digest}, sort_keys=True))


def finished_submission(out_path: str | os.PathLike, header: dict) -> ArchList | None:
    """The submission at ``out_path`` when its record says ``header`` produced exactly these bytes, else None.

        >>> finished_submission("no/such/submission.json", {"produced_by": {}}) is None
        True
    """
    out_path, record = Path(out_path), record_path(out_path)
    if not (out_path.exists() and record.exists()):
        return None
    try:
        saved = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    data = out_path.read_bytes()  # read once: hashed, then parsed
    expected = {**json.loads(json.dumps(header)), "sha256": _sha256(data)}
    return parse_arch_text(data.decode("utf-8"), file=str(out_path)) if saved == expected else None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
