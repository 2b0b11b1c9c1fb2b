"""The challenges' JSON files: arch lists, submissions and ground truths.

All three share one schema: a JSON object whose keys are ``arch1`` ..
``archN`` and whose values are ``{"acc": <number>, "arch": "<code>"}``.
Writing uses ``json.dumps`` defaults (the official files' bytes), keys in
numeric order, and is atomic.

Example:
    >>> entries = {"arch1": ArchEntry("16-4-...", 0.5)}  # doctest: +SKIP
    >>> write_arch_file("sub.json", entries)            # doctest: +SKIP
    >>> read_arch_file("sub.json") == entries           # doctest: +SKIP
    True
"""
from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from ..errors import InputError
from .atomic import atomic_write_text

_KEY = re.compile(r"arch([1-9][0-9]*)\Z")


@dataclass(frozen=True)
class ArchEntry:
    """One row: the arch code and its score (``acc``)."""

    arch: str
    acc: float | int = 0


ArchList = dict  # str -> ArchEntry, in numeric key order


def key_index(key: str) -> int:
    """``"arch12"`` -> 12; :class:`InputError` for any other key."""
    match = _KEY.match(key) if isinstance(key, str) else None
    if not match:
        raise InputError(f"key {key!r} is not of the form arch<N> (N = 1, 2, ...)", key=str(key))
    return int(match.group(1))


def arch_key(index: int) -> str:
    """12 -> ``"arch12"``."""
    return f"arch{index}"


def _reject_constant(name: str):
    raise ValueError(f"non-finite number {name}")


def _check_score(value, file, key) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f'"acc" must be a number, got {value!r}', file=file, key=key)
    if not math.isfinite(value):
        raise InputError(f'"acc" must be finite, got {value!r}', file=file, key=key)


class _DuplicateKey(ValueError):
    pass


def _unique_pairs(pairs: list) -> dict:
    """``object_pairs_hook`` that refuses a key given twice (json would keep the last one silently)."""
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


def parse_arch_text(text: str, file: str = "<string>", space=None) -> ArchList:
    """Parse the JSON text of an arch list/submission; see :func:`read_arch_file`."""
    if not text.strip():
        raise InputError("file is empty; expected a JSON object {\"arch1\": {\"acc\": ..., \"arch\": ...}, ...}", file=file)
    try:
        data = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_pairs)
    except _DuplicateKey as err:
        raise InputError("appears twice in the file; every key must be unique", file=file, key=str(err)) from None
    except ValueError as err:
        raise InputError(f"not valid JSON ({err})", file=file) from None
    if not isinstance(data, dict):
        raise InputError(f"top level must be a JSON object keyed arch1..archN, got {type(data).__name__}", file=file)
    if not data:
        raise InputError("contains no archs", file=file)
    entries: ArchList = {}
    for key, value in data.items():
        try:
            key_index(key)
        except InputError as err:
            raise err.located(file=file) from None
        if not isinstance(value, dict) or set(value) != {"acc", "arch"}:
            shown = sorted(value) if isinstance(value, dict) else type(value).__name__
            raise InputError(f'value must be an object with exactly the keys "acc" and "arch", got {shown}', file=file, key=key)
        _check_score(value["acc"], file, key)
        code = value["arch"]
        if not isinstance(code, str):
            raise InputError(f'"arch" must be a string, got {code!r}', file=file, key=key)
        if space is not None:
            try:
                space.validate(code)
            except InputError as err:
                raise err.located(file=file, key=key) from None
        entries[key] = ArchEntry(code, value["acc"])
    return entries


def read_arch_file(path: str | os.PathLike, space=None) -> ArchList:
    """Read an arch list, submission or ground truth; validate codes against ``space`` if given.

    Raises :class:`InputError` naming the file (and key) for a missing or empty
    file, bad JSON, a wrong shape, a non-finite score or an invalid code.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read file ({err})", file=str(path)) from None
    return parse_arch_text(text, file=str(path), space=space)


def dumps_arch_list(entries: Mapping[str, ArchEntry]) -> str:
    """The exact text the official files use: ``json.dumps`` defaults, keys in numeric order."""
    ordered = sorted(entries.items(), key=lambda item: key_index(item[0]))
    for key, entry in ordered:
        _check_score(entry.acc, None, key)
    return json.dumps({key: {"acc": entry.acc, "arch": entry.arch} for key, entry in ordered}, allow_nan=False)


def write_arch_file(path: str | os.PathLike, entries: Mapping[str, ArchEntry]) -> None:
    """Write ``entries`` atomically in the official byte format."""
    atomic_write_text(path, dumps_arch_list(entries))


def arch_list_from_codes(codes: Iterable[str], acc: float | int = 0) -> ArchList:
    """Number ``codes`` as arch1..archN with placeholder score ``acc``."""
    return {arch_key(i): ArchEntry(code, acc) for i, code in enumerate(codes, start=1)}


def with_scores(arch_list: Mapping[str, ArchEntry], scores: Mapping[str, float]) -> ArchList:
    """A submission: ``arch_list`` with every ``acc`` replaced by ``scores[key]``."""
    missing = [key for key in arch_list if key not in scores]
    if missing:
        raise InputError(f"no score for {len(missing)} archs (first: {missing[0]})")
    return {key: ArchEntry(entry.arch, float(scores[key])) for key, entry in arch_list.items()}


def merge_parts(paths: Iterable[str | os.PathLike], reference: Mapping[str, ArchEntry] | None = None,
                reference_name: str = "reference arch list") -> ArchList:
    """Merge partial result files into one submission.

    Refuses a key present in two parts, a code that differs from the
    reference's for the same key, and keys missing from the union (relative
    to ``reference`` when given, else to the contiguous range arch1..archN).
    """
    merged: ArchList = {}
    origin: dict[str, str] = {}
    for path in paths:
        for key, entry in read_arch_file(path).items():
            if key in merged:
                raise InputError(f"duplicate key, already given by {origin[key]}", file=str(path), key=key)
            if reference is not None:
                if key not in reference:
                    raise InputError(f"key is not in the {reference_name}", file=str(path), key=key)
                if reference[key].arch != entry.arch:
                    raise InputError(
                        f"arch {entry.arch!r} differs from {reference[key].arch!r} in the {reference_name}",
                        file=str(path), key=key)
            merged[key] = entry
            origin[key] = str(path)
    if not merged:
        raise InputError("no partial result files to merge")
    expected = list(reference) if reference is not None else [arch_key(i) for i in range(1, max(map(key_index, merged)) + 1)]
    missing = [key for key in expected if key not in merged]
    if missing:
        raise InputError(f"{len(missing)} keys missing from the merged parts (first: {missing[0]})")
    return {key: merged[key] for key in sorted(merged, key=key_index)}


def arch_list_digest(arch_list: Mapping[str, ArchEntry]) -> str:
    """A short hash of the keys and codes of ``arch_list`` (in order): what a submission was scored on.

    >>> arch_list_digest({"arch1": ArchEntry("16-16", 0.0)})
    'e8d132e516d00be3'
    """
    import hashlib

    text = "\n".join(f"{key}={entry.arch}" for key, entry in arch_list.items())
    return hashlib.sha256(text.encode()).hexdigest()[:16]
