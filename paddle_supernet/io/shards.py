"""Sharded evaluation files: which archs a shard scores, its part file, and the checked merge.

Shard ``i/n`` scores every n-th arch of the list, starting at position i. Each
shard appends to its own part file ``<out>.shard<i>of<n>.part`` (a header line
naming what produced the scores, the arch list digest and the shard, then one
row per arch); a killed shard resumes from it. Once every shard is complete
the merge checks the parts (same producer, the right shard, every key of the
shard once, codes as in the list, finite scores) and writes the submission
atomically in the list's order: byte-identical to a single-process run's.

Example:
    >>> parse_shard("1/4")
    (1, 4)
    >>> shard_keys({"arch1": 0, "arch2": 0, "arch3": 0}, 1, 2)
    ['arch2']
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Mapping

from ..errors import InputError
from .challenge_json import ArchList, arch_list_digest, with_scores, write_arch_file
from .result_log import ResultLog
from .submission_record import write_record


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` with 0 <= i < n; :class:`InputError` naming ``--shard`` otherwise."""
    index, sep, count = str(text).partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        i, n = -1, 0
    if not sep or n < 1 or not 0 <= i < n:
        raise InputError(f"{text!r} is not a shard i/n with 0 <= i < n (e.g. 0/2 and 1/2)", key="--shard")
    return i, n


def shard_keys(arch_list: Mapping, index: int, count: int) -> list[str]:
    """The keys shard ``index`` of ``count`` scores: every count-th key from position ``index``."""
    return list(arch_list)[index::count]


def shard_part_path(out_path: str | os.PathLike, index: int, count: int) -> Path:
    out_path = Path(out_path)
    return out_path.with_name(f"{out_path.name}.shard{index}of{count}.part")


def shard_header(producer: dict, index: int, count: int) -> dict:
    return {"produced_by": producer, "shard": [index, count]}


def read_shard_scores(path: Path, arch_list: Mapping, index: int, count: int, producer: dict | None) -> dict:
    """Scores of a shard's part file, checked against the list, the shard and (when given) the
    producer; :class:`InputError` naming the shard and the file otherwise."""
    rows = ResultLog(path).rows(repair=False)
    name = f"shard {index}/{count}"
    if not rows:
        raise InputError(f"{name} has no results yet", file=str(path))
    header = rows[0]
    if header.get("shard") != [index, count]:
        raise InputError(f"is not {name}'s part file (its header says shard {header.get('shard')})", file=str(path))
    if producer is not None and header.get("produced_by") != producer:
        raise InputError(f"{name} was written by another checkpoint, arch list or eval settings; delete it to "
                         "start over, or resume with what produced it", file=str(path))
    return part_scores(rows[1:], arch_list, shard_keys(arch_list, index, count), name, path)


def part_scores(rows: list, arch_list: Mapping, keys, name: str, path: Path) -> dict:
    """``{key: score}`` of a part file's result rows (header excluded): every row an arch of ``keys``
    with the list's code, scored once, finitely; :class:`InputError` naming ``name``, the line and the file."""
    expected = set(keys)
    scores = {}
    for number, row in enumerate(rows, start=2):
        key, score = row.get("key"), row.get("acc")
        if key not in expected or arch_list[key].arch != row.get("arch"):
            raise InputError(f"{name}, line {number}: {key} is not one of the archs this part file scores (or its "
                             "code differs from the list's); delete the part file to start over", file=str(path))
        if key in scores:
            raise InputError(f"{name}, line {number}: {key} is scored twice", file=str(path))
        if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score):
            raise InputError(f"{name}, line {number}: the score of {key} is not finite", file=str(path))
        scores[key] = float(score)
    return scores


def merge_shards(out_path: str | os.PathLike, arch_list: ArchList, count: int, producer: dict | None = None,
                 remove: bool = True) -> ArchList:
    """Merge the ``count`` complete shard part files of ``out_path`` into the submission (written
    atomically; nothing is written when a shard is missing, incomplete or foreign). ``producer``:
    the header every part must carry (None: shard 0's, whose arch list digest must match)."""
    paths = [shard_part_path(out_path, i, count) for i in range(count)]
    for i, path in enumerate(paths):
        if not path.exists():
            raise InputError(f"shard {i}/{count} is missing (no part file)", file=str(path))
    if producer is None:
        rows = ResultLog(paths[0]).rows(repair=False)
        producer = rows[0].get("produced_by") if rows else None
        if not isinstance(producer, dict) or producer.get("arch_list") != arch_list_digest(arch_list):
            raise InputError(f"shard 0/{count} was scored on another arch list", file=str(paths[0]))
    scores = {}
    for i, path in enumerate(paths):
        part = read_shard_scores(path, arch_list, i, count, producer)
        missing = [k for k in shard_keys(arch_list, i, count) if k not in part]
        if missing:
            raise InputError(f"shard {i}/{count} is incomplete: {len(missing)} archs to go (first: {missing[0]})",
                             file=str(path))
        scores.update(part)
    submission = with_scores(arch_list, scores)
    write_arch_file(out_path, submission)
    write_record(out_path, {"produced_by": producer})  # as a single-process evaluation records it
    if remove:
        for path in paths:
            path.unlink()
    return submission


def shards_complete(out_path: str | os.PathLike, arch_list: ArchList, count: int) -> bool:
    """True when every shard's part file holds all of its archs (not checked further)."""
    for i in range(count):
        path = shard_part_path(out_path, i, count)
        if not path.exists() or len(ResultLog(path).rows(repair=False)) - 1 < len(shard_keys(arch_list, i, count)):
            return False
    return True
