"""The ``model.contrastive`` option of a run config (the MoCo v2 parts of
:mod:`paddle_supernet.nn.contrastive`), checked in pure Python: config validation
runs before Paddle is imported, so a bad value is reported at once.
"""
from __future__ import annotations

from ..errors import InputError


def check_contrastive_config(cfg: dict, file: str) -> None:
    """A resolved run config's ``model.contrastive``: {dim, queue} positive integers (and optionally
    sync_neck: true / false), required by the moco strategy and refused with few-shot copies; one
    :class:`InputError` naming ``file`` and the key otherwise.

    Example:
        >>> check_contrastive_config({"model": {"contrastive": {"dim": 128, "queue": 4096}},
        ...                           "strategy": {"name": "moco"}}, "c.yaml")
    """
    section = cfg["model"].get("contrastive")
    if section is None:
        if cfg["strategy"]["name"] == "moco":
            raise InputError("the moco strategy needs model.contrastive: {dim: 128, queue: 40960}", file=file,
                             key="model.contrastive")
        return
    if not isinstance(section, dict) or not {"dim", "queue"} <= set(section) <= {"dim", "queue", "sync_neck"} or any(
            isinstance(section[k], bool) or not isinstance(section[k], int) or section[k] < 1 for k in ("dim", "queue")) \
            or not isinstance(section.get("sync_neck", True), bool):
        raise InputError(f"must be {{dim: N, queue: N}} with positive integers (optionally sync_neck: true or false), "
                         f"got {section!r}", file=file, key="model.contrastive")
    if cfg["model"].get("few_shot"):  # a space's supernet without features(x): refused when built
        raise InputError("contrastive pretraining needs a plain supernet with features(x), not few-shot copies",
                         file=file, key="model.contrastive")
