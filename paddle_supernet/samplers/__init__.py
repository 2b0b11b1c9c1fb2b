"""Samplers: which archs a training step trains, one family for every strategy and space.

``uniform`` (K independent draws), ``sandwich`` (largest, smallest, uniform),
``fair`` (FairNAS strict fairness over cycles), ``list`` (an arch list in
shuffled passes), ``ccfs`` (top K of P draws by a sampling factor; presets
``ccfs_f``, ``ccfs_m``, ``ccfs_released``), ``phases`` (progressive shrinking
as phases of epochs, each with its lr and optimizer) and ``shrinking`` (OFA's
large-to-small shrinking within one schedule). A run's ``sampler`` section names one; its keys are the sampler's
parameters (defaults in :mod:`paddle_supernet.catalog`).

Example:
    >>> from paddle_supernet.spaces import get_space
    >>> sampler = build_sampler({"name": "ccfs_m", "pool": 20}, get_space("cvpr22_resnet48"), seed=0)
    >>> len(sampler.archs(epoch=0, step=1, count=4))
    4
"""
from __future__ import annotations

from ..catalog import SAMPLER_DEFAULTS, sampler_class_name, sampler_defaults
from ..errors import InputError
from ..registry import Registry
from .base import Sampler
from .basic import ListSampler, SandwichSampler, ShuffledPasses, UniformSampler, read_list_codes
from .ccfs import CcfsSampler
from .fair import FairSampler
from .phases import Phase, PhasesSampler
from .shrinking import ShrinkingSampler

SAMPLERS = Registry("sampler")
for _name, _cls in (("uniform", UniformSampler), ("sandwich", SandwichSampler), ("fair", FairSampler),
                    ("list", ListSampler), ("ccfs", CcfsSampler), ("phases", PhasesSampler),
                    ("shrinking", ShrinkingSampler)):
    SAMPLERS.register(_name)(_cls)
    _cls.name = _name


def register_sampler(name: str, **defaults):
    """Class decorator: a :class:`Sampler` of your own under ``name``, with its config keys and their
    defaults; a config names it in ``sampler.name`` and lists its module under ``custom_imports``.

    Example:
        >>> @register_sampler("every_other_largest")     # doctest: +SKIP
        ... class EveryOtherLargest(Sampler): ...
    """

    def decorate(cls: type) -> type:
        SAMPLERS.register(name)(cls)  # refuses a name taken by another class
        SAMPLER_DEFAULTS[name] = dict(defaults)
        cls.name = name
        return cls

    return decorate


def build_sampler(cfg: dict | None, space, seed: int, distribution: str | None = None, variant: dict | None = None,
                  total_epochs: int | None = None, route=None, read_lists: bool = True) -> Sampler:
    """The sampler ``cfg`` names (None: uniform), its other keys as parameters.

    ``variant``: counting options of the trained network (CCFS); ``total_epochs``: checked against
    the phases; ``route``: a few-shot model's arch-to-copy routing (phase groups); ``read_lists``:
    False checks the config without reading arch list files.
    """
    cfg = dict(cfg or {"name": "uniform"})
    params = {**sampler_defaults(cfg.get("name")), **cfg}
    name = sampler_class_name(params.pop("name"))
    cls = SAMPLERS.get(name, key="sampler.name")
    if name == "phases":
        params.update(total_epochs=total_epochs, route=route)
    elif name == "shrinking":
        params.update(total_epochs=total_epochs)
    archs = params.get("archs")
    if archs is not None:
        if not isinstance(archs, str):
            raise InputError(f"must be the path of an arch list file, got {archs!r}", key="sampler.archs")
        params["archs"] = read_list_codes(archs, space) if read_lists else [space.largest(distribution)]
    return cls(space, seed, distribution, variant, **params)


def check_sampler_config(cfg: dict, file: str) -> None:
    """Build a resolved run config's sampler once (arch lists not read), so that a bad phase list or
    range is reported with the config ``file`` before anything runs.

    Example:
        >>> check_sampler_config(load_config("configs/fmnist_r20/phases.yaml"), "phases.yaml")  # doctest: +SKIP
    """
    from ..spaces import get_space
    from ..spaces.routing import copy_routing

    try:
        build_sampler(cfg["sampler"], get_space(cfg["space"]), cfg["seed"], cfg["model"].get("distribution"),
                      total_epochs=cfg["schedule"]["epochs"], route=copy_routing(cfg), read_lists=False)
    except InputError as err:
        raise err.located(file) from None


__all__ = ["SAMPLERS", "CcfsSampler", "FairSampler", "ListSampler", "Phase", "PhasesSampler", "Sampler",
           "SandwichSampler", "ShrinkingSampler", "ShuffledPasses", "UniformSampler", "build_sampler", "check_sampler_config",
           "register_sampler"]
