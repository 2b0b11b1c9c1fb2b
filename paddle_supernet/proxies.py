"""Zero-cost proxy scores: every supernet method must beat these.

Example:
    >>> from paddle_supernet.spaces import get_space
    >>> from paddle_supernet.io.challenge_json import arch_list_from_codes
    >>> space = get_space("cvpr21_resnet20")
    >>> archs = arch_list_from_codes([space.smallest(), space.largest()])
    >>> sub = proxy_submission(space, archs, "params")
    >>> sub["arch2"].acc > sub["arch1"].acc
    True
"""
from __future__ import annotations

from typing import Mapping

from .errors import InputError
from .io.challenge_json import ArchEntry, ArchList, with_scores

PROXIES = ("params", "macs")
#: each proxy's short name and its row label in reports and tables
PROXY_NAMES = {"params": "params", "macs": "MACs"}
PROXY_LABELS = {proxy: f"{name} proxy" for proxy, name in PROXY_NAMES.items()}


def model_variant(model_cfg: dict, image_size: int | None = None) -> dict:
    """Counting options of the network a config builds: options enhancement and PReLU (2021),
    the small-image variant and the input side (2022), when used.

    >>> model_variant({"width_map": {4: 5, 8: 9}, "activation": "prelu"})
    {'width_map': {4: 5, 8: 9}, 'prelu': True}
    >>> model_variant({"small_input": True, "width_scale": 0.25}, image_size=16)
    {'small_input': True, 'width_scale': 0.25, 'image_size': 16}
    """
    variant = {}
    if model_cfg.get("small_input") or model_cfg.get("width_scale", 1.0) != 1.0:
        variant.update(small_input=bool(model_cfg.get("small_input")), width_scale=model_cfg.get("width_scale", 1.0))
        if image_size:
            variant["image_size"] = int(image_size)
    if model_cfg.get("width_map"):
        variant["width_map"] = {int(k): int(v) for k, v in model_cfg["width_map"].items()}
    if model_cfg.get("activation") == "prelu":
        variant["prelu"] = True
    return variant


def parse_width_map(text: str) -> dict:
    """``"4:5,8:9"`` -> ``{4: 5, 8: 9}``."""
    try:
        return {int(a): int(b) for a, b in (pair.split(":") for pair in text.split(",") if pair)}
    except ValueError:
        raise InputError(f"width map {text!r} is not of the form 4:5,8:9", key="--width-map") from None


def proxy_score(space, code: str, proxy: str, **variant) -> float:
    """The proxy value of one arch (parameters or multiply-accumulates)."""
    if proxy == "params":
        return float(space.params(code, **variant))
    if proxy == "macs":
        return float(space.macs(code, **variant))
    raise InputError(f"unknown proxy {proxy!r}; choose one of {', '.join(PROXIES)}")


def proxy_submission(space, arch_list: Mapping[str, ArchEntry], proxy: str, **variant) -> ArchList:
    """``arch_list`` scored by ``proxy``."""
    scores = {}
    for key, entry in arch_list.items():
        try:
            scores[key] = proxy_score(space, entry.arch, proxy, **variant)
        except InputError as err:
            raise err.located(key=key) from None
    return with_scores(arch_list, scores)
