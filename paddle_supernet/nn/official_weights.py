"""Full-network weights in the official ResNet48 layout (the challenge's ``resnet48.pdparams``).

The layout is a flat state dict whose keys follow the official module tree
(``blocks.0.conv.weight``, ``blocks.i.conv1.weight``, ``blocks.i.bn1._mean``,
``blocks.6.downsample.0.weight``, ``blocks.24.fc.weight`` stored [in, out], ...).
:class:`~paddle_supernet.nn.resnet48.StandaloneResNet48` and
:class:`~paddle_supernet.nn.resnet48.ResNet48Supernet` use the same names, so
the file loads into either; :func:`save_official` writes it from the largest
arch of our own training, so the embedded benchmark has its "pretrained
ResNet48" made the same way.

Example:
    >>> state = read_official("resnet48.pdparams")                       # doctest: +SKIP
    >>> load_official(supernet, reorder_by_l1(state), "resnet48.pdparams")  # doctest: +SKIP
"""
from __future__ import annotations

import io
import os
import re

import numpy as np
import paddle

from ..errors import InputError
from ..io.atomic import atomic_write_bytes

_BLOCK_CONV2 = re.compile(r"^blocks\.(\d+)\.conv2\.weight$")
#: downsample layers only the free-distribution supernet has (not in the official file)
_OPTIONAL = re.compile(r"^blocks\.(\d+)\.downsample\.")


def read_weights(path: str | os.PathLike):
    """``("checkpoint", state)`` for a paddle_supernet checkpoint, else ``("official", {key: ndarray})``.

    The file is read once; anything else gives :class:`InputError` naming the file.
    """
    path = str(path)
    if not os.path.isfile(path):
        raise InputError("weights file not found", file=path)
    try:
        state = paddle.load(path)
    except Exception as err:  # damaged pickles raise many types
        raise InputError(f"unreadable weights file ({type(err).__name__}: {err})", file=path) from None
    if isinstance(state, dict) and str(state.get("format", "")).startswith("paddle_supernet.checkpoint"):
        return "checkpoint", state
    if not isinstance(state, dict) or not state or not all(hasattr(v, "shape") for v in state.values()):
        raise InputError("not a state dict (a mapping of names to arrays)", file=path)
    return "official", {k: v if isinstance(v, np.ndarray) else v.numpy() for k, v in state.items()}


def read_official(path: str | os.PathLike) -> dict:
    """``{key: ndarray}`` from a state-dict file in the official layout (paddle.save of name -> array)."""
    kind, state = read_weights(path)
    if kind != "official":
        raise InputError("is a paddle_supernet training checkpoint, not a state dict in the official layout; write one "
                         "with `paddle-supernet export-full`", file=str(path))
    return state


def full_network_state(path: str | os.PathLike, space_name: str = "cvpr22_resnet48") -> dict:
    """The full network's weights in the official layout, from either kind of file: a state dict
    in that layout, or a paddle_supernet checkpoint (its supernet's largest arch, exported).

    >>> state = full_network_state("runs/fmnist_r48_pretrain/checkpoint.pdparams")  # doctest: +SKIP
    """
    kind, state = read_weights(path)
    if kind == "official":
        return state
    full = exported_full_network(state, path, space_name)
    return {key: value.numpy() for key, value in full.state_dict().items()}


def exported_full_network(state: dict, path, space_name: str):
    """The largest arch of a paddle_supernet checkpoint (loaded as ``state``), exported as the plain
    network its supernet builds (its own shortcut policy and activation), in eval mode."""
    from ..engine.checkpoint import restore_model
    from ..models import build_supernet

    cfg = state["meta"]["config"]
    if cfg["space"] != space_name:
        raise InputError(f"is a {cfg['space']} checkpoint, not {space_name}", file=str(path))
    supernet = build_supernet(cfg, state["meta"]["num_classes"])
    restore_model(supernet, state, str(path))
    supernet.eval()
    return supernet.export(supernet.space.largest())


def reorder_by_l1(state: dict) -> dict:
    """The official baseline's ``reorder_weights``: in every BasicBlock, sort the middle channels
    by the L1 norm of conv2's input slices (descending) and permute conv1's outputs, bn1 and
    conv2's inputs alike. The full network computes the same function; the stem, conv2 outputs,
    bn2, downsample and fc are untouched.

    >>> w2 = np.zeros((2, 3, 1, 1), np.float32); w2[:, 2] = 5; w2[:, 0] = 1
    >>> s = {"blocks.1.conv2.weight": w2, "blocks.1.conv1.weight": np.arange(3, dtype=np.float32).reshape(3, 1, 1, 1)}
    >>> s.update({f"blocks.1.bn1.{k}": np.arange(3, dtype=np.float32) for k in ("weight", "bias", "_mean", "_variance")})
    >>> reorder_by_l1(s)["blocks.1.conv1.weight"].ravel().tolist()
    [2.0, 0.0, 1.0]
    """
    out = dict(state)
    for key, conv2 in state.items():
        match = _BLOCK_CONV2.match(key)
        if not match:
            continue
        prefix = f"blocks.{match.group(1)}."
        importance = np.abs(conv2).sum(axis=(0, 2, 3))
        order = np.argsort(-importance, kind="stable")
        out[key] = conv2[:, order]
        out[prefix + "conv1.weight"] = state[prefix + "conv1.weight"][order]
        for name in ("weight", "bias", "_mean", "_variance"):
            out[prefix + f"bn1.{name}"] = state[prefix + f"bn1.{name}"][order]
    return out


def load_official(model: paddle.nn.Layer, state: dict, file: str) -> None:
    """Load ``state`` (official layout) into ``model``; every key must be there with its exact shape.

    Only the free-distribution supernet's extra downsample layers (absent from the
    official network) may be missing; they keep their initial weights. A missing,
    unexpected or mis-shaped key raises :class:`InputError` naming the key (and both shapes).
    """
    own = model.state_dict()
    unexpected = sorted(set(state) - set(own))
    if unexpected:
        raise InputError(f"the model has no such weight ({len(unexpected)} unexpected keys; is this the weights file "
                         "of another network?)", file=file, key=unexpected[0])
    for key, tensor in own.items():
        if key not in state:
            if _OPTIONAL.match(key) and getattr(model, "distribution", "test") == "free":
                continue
            raise InputError("missing from the weights file (is this the weights file of another network?)",
                             file=file, key=key)
        if list(state[key].shape) != list(tensor.shape):
            raise InputError(f"shape {list(state[key].shape)} in the file, {list(tensor.shape)} in the model "
                             "(other width_scale, small_input or number of classes?)", file=file, key=key)
    model.set_state_dict({key: value.astype(np.float32) for key, value in state.items()})


def write_state(path: str | os.PathLike, state: dict) -> None:
    """Write ``{key: ndarray}`` atomically with ``paddle.save`` (readable by ``paddle.load``)."""
    buffer = io.BytesIO()
    paddle.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def save_official(path: str | os.PathLike, network: paddle.nn.Layer) -> None:
    """Write ``network``'s state dict (a full StandaloneResNet48) atomically in the official layout."""
    write_state(path, {key: value.numpy() for key, value in network.state_dict().items()})
