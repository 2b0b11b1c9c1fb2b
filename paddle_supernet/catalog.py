"""Names and default parameters of the training strategies, in pure Python.

Config validation reads this before Paddle is imported, so a config error is
reported at once; the strategy classes (:mod:`paddle_supernet.strategies`) take
their ``defaults`` from here.

Example:
    >>> strategy_defaults("uniform")
    {'name': 'uniform', 'k': 1, 'reduce': 'mean'}
"""
from __future__ import annotations

from .errors import InputError

STRATEGY_DEFAULTS: dict[str, dict] = {
    # 2021 Algorithm 1 (+ the released look / max-recover step when look > 0)
    "distill": {"k": 8, "alpha": 0.8, "reduce": "sum", "teacher_ce": True, "teacher": "largest",
                "teacher_weights": None, "look": 0, "max_recover": 5},
    # the 2022 official baseline: CE + soft-label CE to a frozen external teacher
    "kd": {"k": 2, "ce_weight": 1.0, "kd_weight": 1.0, "temperature": 1.0, "reduce": "sum",
           "teacher": "external", "teacher_weights": None},
    # the 2022 runner-up's CPT (and, with kd_weight and 7 candidates, its SSE step)
    "cpt": {"k": 1, "ce_weight": 0.5, "kd_weight": 0.0, "temperature": 1.0, "reduce": "sum", "teacher": "external",
            "teacher_weights": None, "candidate_weight": 0.5, "candidates": 10, "knn": 9, "recent": 100,
            "reset_every": 500, "candidate_archs": None, "with_replacement": False, "skip_last_digit": False},
    # the 2022 winner's stage 1: MoCo v2 on the supernet (needs model.contrastive)
    "moco": {"temperature": 0.1, "momentum": 0.999, "query": "largest", "k": 1, "passes": 1, "swap_views": False,
             "reduce": "sum", "shuffle_bn": True, "bn_splits": 1},
    "uniform": {"k": 1, "reduce": "mean"},
    "fixed": {"arch": "largest"},
}


#: CCFS-F alphas of the paper (stem, stages 1-4), on parameter counts
CCFS_F_ALPHAS = [1.0, 1.0, 0.55, 0.43, 0.24]

SAMPLER_DEFAULTS: dict[str, dict] = {
    # K independent uniform draws of the distribution (the historical behaviour of every strategy)
    "uniform": {},
    # OFA / BigNAS sandwich rule: largest, smallest, then K - 2 uniform archs
    "sandwich": {},
    # FairNAS strict fairness over cycles of consecutive archs (see paddle_supernet.samplers.fair)
    "fair": {},
    # archs of a list file (e.g. the official test list), shuffled per pass and used in order
    "list": {"archs": None},
    # CCFS (paper): P uniform draws, keep the top K by Phi = sum alpha_group x layer params
    "ccfs": {"pool": 400, "alphas": CCFS_F_ALPHAS, "measure": "params", "stage_weights": None,
             "extra_uniform_every": 0, "ties": "first"},
    # progressive shrinking: per-phase depth and width ranges (and lr), uniform within them
    "phases": {"phases": None, "restart_optimizer": True, "cosine_unit": "step", "archs": None},
    # OFA large-to-small shrinking within one schedule: parts of the run ({fraction, depth, width})
    "shrinking": {"stages": None},
}

#: named presets of a sampler: a name for a set of parameters
SAMPLER_PRESETS: dict[str, dict] = {
    "ccfs_f": {"name": "ccfs", "alphas": CCFS_F_ALPHAS},
    "ccfs_m": {"name": "ccfs", "alphas": 1.0},
    # the released stage 2: 400 draws, top 4 by rounded channel sizes with stage weights 64 x
    # [1, 1.1, 1.7, 1.9]; ties overwrite (dict keyed by size); every 3rd step filled to K + 1 sizes
    "ccfs_released": {"name": "ccfs", "measure": "channels", "stage_weights": [1.0, 1.1, 1.7, 1.9],
                      "extra_uniform_every": 3, "ties": "released"},
}


def sampler_defaults(name: str | None, file: str | None = None) -> dict:
    """``{"name": name, **defaults}`` of a known sampler or preset; :class:`InputError` for an unknown name.

    >>> sampler_defaults("ccfs_m")["alphas"]
    1.0
    """
    known = sorted({*SAMPLER_DEFAULTS, *SAMPLER_PRESETS})
    if name in SAMPLER_PRESETS:
        preset = dict(SAMPLER_PRESETS[name])
        base = preset.pop("name")
        return {"name": name, **SAMPLER_DEFAULTS[base], **preset}
    if name not in SAMPLER_DEFAULTS:
        raise InputError(f"unknown sampler {name!r}; known: {', '.join(known)}", file=file, key="sampler.name")
    return {"name": name, **SAMPLER_DEFAULTS[name]}


def sampler_class_name(name: str) -> str:
    """The registered sampler a name or preset builds."""
    return SAMPLER_PRESETS.get(name, {}).get("name", name)


def strategy_defaults(name: str | None, file: str | None = None) -> dict:
    """``{"name": name, **defaults}`` of a known strategy; :class:`InputError` for an unknown name."""
    if name not in STRATEGY_DEFAULTS:
        raise InputError(f"unknown strategy {name!r}; known: {', '.join(sorted(STRATEGY_DEFAULTS))}", file=file,
                         key="strategy.name")
    return {"name": name, **STRATEGY_DEFAULTS[name]}
