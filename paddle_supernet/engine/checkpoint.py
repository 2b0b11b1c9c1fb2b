"""Checkpoints: written atomically, checked on load.

A checkpoint holds the model and optimizer state plus ``meta``: the resolved
config, its training fingerprint, the space name, the number of finished
steps and whether training is complete.

Example:
    >>> save_checkpoint("runs/x/checkpoint.pdparams", model, optimizer, meta)  # doctest: +SKIP
    >>> state = load_checkpoint("runs/x/checkpoint.pdparams")                   # doctest: +SKIP
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import paddle

from ..errors import InputError
from ..io.atomic import atomic_write_bytes

FORMAT = "paddle_supernet.checkpoint.v1"


def save_checkpoint(path: str | os.PathLike, model, optimizer, meta: dict) -> None:
    """Write model, optimizer and ``meta`` to ``path`` (temporary file, then rename)."""
    state = {"format": FORMAT, "meta": meta, "model": model.state_dict(),
             "optimizer": optimizer.state_dict() if optimizer is not None else {}}
    buffer = io.BytesIO()  # paddle.save takes a path or BytesIO, not an open file
    paddle.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint; :class:`InputError` naming the file when missing, corrupted or foreign."""
    path = Path(path)
    if not path.is_file():
        raise InputError("checkpoint not found", file=str(path))
    try:
        state = paddle.load(str(path))
    except Exception as err:  # paddle raises many types for a damaged pickle
        raise InputError(f"corrupted or unreadable checkpoint ({type(err).__name__}: {err})", file=str(path)) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise InputError(f"not a paddle_supernet checkpoint (expected format {FORMAT})", file=str(path))
    missing = [key for key in ("meta", "model") if not isinstance(state.get(key), dict)]
    if missing or not isinstance(state["meta"].get("config"), dict):
        raise InputError(f"damaged checkpoint: no {(missing or ['meta.config'])[0]} section (written by another "
                         "program, or cut short)", file=str(path))
    return state


def restore_model(model, state: dict, path: str) -> None:
    """Load ``state['model']`` into ``model``, refusing missing or mis-shaped weights."""
    check_state_matches(model, state["model"], path)
    model.set_state_dict(state["model"])


def check_state_matches(model, state, file: str | None = None) -> None:
    """Every weight of ``model`` in ``state`` with its exact shape, nothing else: :class:`InputError`
    naming the key (and both shapes) otherwise, before anything is loaded."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    if missing or extra:
        raise InputError(f"weights do not match the model (missing {missing[:3]}, unexpected {extra[:3]})", file=file)
    for key, value in own.items():
        if list(value.shape) != list(state[key].shape):
            raise InputError(f"shape {list(state[key].shape)} does not match the model's {list(value.shape)}",
                             file=file, key=key)
