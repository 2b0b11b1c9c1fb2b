"""Run configs: YAML files checked against the defaults below.

A config may start from others with ``_base_: other.yaml`` or a list of files
(relative to the file, merged in order); its own keys override the bases'. Every key must exist in
:data:`DEFAULTS` (strategy keys in the chosen strategy's defaults), so a typo
is an error that names the file and the key. ``--set a.b=value`` overrides
(value parsed as YAML) come last.

Example:
    >>> cfg = load_config("configs/quickstart_fmnist_r20.yaml", ["schedule.epochs=1"])  # doctest: +SKIP
    >>> cfg["schedule"]["epochs"]  # doctest: +SKIP
    1
"""
from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import yaml

from ..errors import InputError
from .schema import check_values

DEFAULTS: dict = {
    "name": "run",
    "seed": 0,
    "space": "cvpr21_resnet20",
    "custom_imports": [],            # modules to import first: a search space of your own and its networks
    "model": {
        "shortcut": "projection",   # supernet shortcut policy: projection (2021 winners) or official
        "width_map": None,           # options enhancement, e.g. {4: 5, 8: 9}
        "activation": "relu",        # after each residual add: relu or prelu
        "prelu_init": 0.25,          # initial PReLU slope (also when a PReLU stage starts from a ReLU checkpoint)
        "branches": "none",          # progressive splitting: none, halves, chunks:N, per_option, released, or per field
        "teacher_weights": "shared",  # shared (teacher = the top group's branch) or separate (its own main weights)
        "freeze_teacher": False,     # separate teacher weights get no gradient, momentum or decay
        # 2022 (cvpr22_resnet48) only (each space's model_options says which keys are its own):
        "small_input": False,        # 3x3 stride-1 stem without max-pool (small images)
        "width_scale": 1.0,          # every width x this, make_divisible divisor 8 x this (must be whole)
        "distribution": None,        # test (tied stage outputs) or free; null: the space's default (test)
        "bn_stats": "batch",         # batch (correct) or frozen (pretrained statistics, as released)
        "pretrained": None,          # full-net state dict in the official layout (resnet48.pdparams) to start from
        "reorder": False,            # the baseline's L1 channel reordering of the pretrained weights
        # any space:
        "few_shot": None,            # SSE: {by: [d3, d4], groups: [per copy: value lists, or "rest"]}
        "contrastive": None,         # MoCo stage: {dim: 128, queue: 40960} (neck output size, queue length)
    },
    "data": {
        "name": "fashion_mnist",     # fashion_mnist (embedded default), cifar100, image_folder
        "root": None,
        "image_size": 32,
        "train_subset": None,        # keep a seeded subset of the training images
        "val_subset": None,
        "subset_seed": 0,
        "batch_size": 64,
        "mean": None,                # null: measured on the training images (CIFAR-100: official values)
        "std": None,
        "resize": None,              # imagenet: eval short side before the centre crop (null: image_size x 256/224)
        "crop_scale": [0.08, 1.0],   # imagenet: RandomResizedCrop area range
        "workers": 0,                # imagenet: DataLoader worker processes decoding JPEGs
        "order": "shuffled",         # shuffled per epoch (seeded), or class_sorted (the same order every epoch, as the
                                     # 2022 winner's released MoCo loaders: an unshuffled class-sorted folder)
        "augment": {"crop_padding": 4, "resized_crop": None, "flip": True, "brightness": 0.1, "contrast": 0.1, "rotation": 15.0,
                    "probability": 0.5},
    },
    "optimizer": {"lr": 0.1, "momentum": 0.9, "weight_decay": 5e-4, "nesterov": False,
                  "lr_scale": 1.0},   # multiplies every lr of the run (optimizer.lr and each phase's lr): a
                                      # benchmark's twin rule, one factor for every method's recipe
    "schedule": {"epochs": 300, "warmup_steps": 2000, "min_lr": 0.0,
                 "cosine_unit": "step",       # the cosine moves per step, or per epoch (the released 2022 baseline)
                 "cosine_length": None},      # its T_max in that unit (null: the run after the warm-up); periodic beyond
    "strategy": {"name": "distill"},  # further keys: see paddle_supernet.strategies
    "sampler": {"name": "uniform"},   # which archs a step trains; further keys: see paddle_supernet.samplers
    "checkpoint": {"every_steps": 200, "init_from": None,
                   "export_full": None},  # when finished, write the largest arch in the official layout here
    "log": {"every_steps": 20, "every_seconds": 10.0, "visualdl": True,
            "rank_check_every": 100},  # data parallel: compare the ranks' trained archs every N steps
    "eval": {
        "archs": None,               # arch list to score; null: sample eval.sample archs
        "archs_subset": None,        # score only this many archs of eval.archs (seeded by sample_seed, keys kept)
        "if_archs_missing": "error",  # error, or sample: eval.sample archs when the eval.archs file is absent
        "gt": None,                  # stand-alone ground truth of eval.archs: `run` reports against it (and its seeds)
        "sample": 200,
        "sample_seed": 1,
        "score": "accuracy",         # accuracy or neg_loss
        "calib_images": 512,         # fixed, cached BN calibration set (training images, not augmented)
        "calib_augment": False,      # calibrate on the training augmentation instead (drawn once, fixed)
        "calibration": "exact",      # exact: reset, then the exact average over the calibration set; momentum:
                                     # BN momentum updates from the trained statistics (the 2022 runner-up's scoring)
        "calib_batch_size": 128,
        "batch_size": 500,
        "val_subset": None,          # score on a seeded subset of the validation data
        "backend": "dygraph",        # dygraph; inference: the calibrated subnet through Paddle Inference;
                                     # shared_inference: the same, one predictor per structure (weights fed)
        "threads": 0,                # inference backend: CPU math threads (0: Paddle's default)
        "calib_backend": "dygraph",  # inference backend: BN calibration in dygraph, or through a predictor too
    },
}

#: sections whose keys are those of the component they name (checked by validate_config)
NAMED_SECTIONS = ("strategy", "sampler")

#: keys added after runs were made, with their defaults: left out of the fingerprint at the default
ADDED_LATER = {"sampler": {"name": "uniform"}, "custom_imports": [], "model.few_shot": None, "model.contrastive": None,
               "data.augment.resized_crop": None,
               "eval.backend": "dygraph", "eval.threads": 0, "eval.calib_backend": "dygraph",
               "schedule.cosine_unit": "step", "schedule.cosine_length": None, "eval.calibration": "exact",
               "data.order": "shuffled", "strategy.shuffle_bn": True, "strategy.bn_splits": 1,
               "optimizer.lr_scale": 1.0}


def without_added_later(cfg: dict) -> dict:
    """A copy of ``cfg`` (a config, or part of one keyed from its top) without the keys added
    later that hold their default, so that fingerprints and records made before those keys
    existed still match.

        >>> without_added_later({"eval": {"backend": "dygraph", "batch_size": 8}})
        {'eval': {'batch_size': 8}}
    """
    out = copy.deepcopy(cfg)
    for dotted, default in ADDED_LATER.items():
        node, parts = out, dotted.split(".")
        for part in parts[:-1]:
            node = node.get(part, {})
        if parts[-1] in node and node[parts[-1]] == default:
            node.pop(parts[-1])
    return out


#: sections whose change does not alter the trained weights (a resumed run may change them)
NON_TRAINING_KEYS = ("log", "eval", "checkpoint.every_steps", "checkpoint.export_full", "name")


def _check_keys(override: dict, defaults: dict, file: str, prefix: str = "") -> None:
    """Every key of ``override`` must exist in ``defaults``; sections must be mappings.

    Strategy keys are checked later against the chosen strategy (:func:`validate_config`).
    """
    for key, value in override.items():
        dotted = f"{prefix}{key}"
        if key in NAMED_SECTIONS and not prefix:
            if not isinstance(value, dict):
                raise InputError("must be a mapping with at least 'name'", file=file, key=dotted)
            continue
        if key not in defaults:
            known = ", ".join(sorted(defaults))
            raise InputError(f"unknown config key (known here: {known})", file=file, key=dotted)
        if isinstance(defaults[key], dict):
            if not isinstance(value, dict):
                raise InputError(f"must be a mapping, got {value!r}", file=file, key=dotted)
            _check_keys(value, defaults[key], file, dotted + ".")


def _deep_update(base: dict, override: dict, defaults: dict = DEFAULTS, top: bool = True) -> dict:
    """``base`` with ``override`` applied; sections (mappings in ``defaults``) merge key by key,
    any other value (``width_map``, a per-field ``branches`` mapping) is replaced whole. A new
    strategy name starts that strategy's keys afresh."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if top and key in NAMED_SECTIONS and "name" in value and value["name"] != out.get(key, {}).get("name"):
            out[key] = copy.deepcopy(value)
        elif isinstance(defaults.get(key), dict) and isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_update(out[key], value, defaults[key], top=False)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _merge(base: dict, override: dict, file: str) -> dict:
    """Check ``override``'s keys (errors name ``file``), then apply it to ``base``."""
    _check_keys(override, DEFAULTS, file)
    return _deep_update(base, override)


def read_yaml_mapping(path: Path) -> dict:
    """A YAML file that must hold a mapping (empty: ``{}``); one clear error naming the file otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("config file not found", file=str(path)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise InputError(f"not valid YAML ({err})", file=str(path)) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError("must be a YAML mapping", file=str(path))
    return data


def _explicit(path: Path, seen: tuple = ()) -> dict:
    """The keys ``path`` and its bases set explicitly (bases merged in order, the file last).

    Every file is checked against the defaults where it is read, so an unknown
    key is reported with the file that holds it.
    """
    path = path.resolve()
    if path in seen:
        raise InputError("_base_ chain loops back to this file", file=str(path))
    data = read_yaml_mapping(path)
    bases = data.pop("_base_", None) or []
    if not isinstance(bases, (str, list)) or any(not isinstance(b, str) for b in ([bases] if isinstance(bases, str) else bases)):
        raise InputError(f"must be a config file name or a list of them, got {bases!r}", file=str(path), key="_base_")
    _check_keys(data, DEFAULTS, str(path))
    explicit: dict = {}
    for base_name in [bases] if isinstance(bases, str) else bases:
        explicit = _deep_update(explicit, _explicit(path.parent / base_name, seen + (path,)))
    return _deep_update(explicit, data)


def _resolve(path: Path) -> dict:
    return _deep_update(DEFAULTS, _explicit(path))


def parse_overrides(pairs: list[str] | None) -> dict:
    """``["a.b=3", "c=x"]`` -> ``{"a": {"b": 3}, "c": "x"}`` (values parsed as YAML)."""
    out: dict = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"override {pair!r} is not of the form key.sub=value", key="--set")
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        try:
            node[parts[-1]] = yaml.safe_load(value)
        except yaml.YAMLError as err:
            problem = str(err).splitlines()[0]
            raise InputError(f"value {value!r} is not valid YAML ({problem})", key=f"--set {key}") from None
    return out


def load_config(path: str | Path | None, overrides: list[str] | None = None) -> dict:
    """The resolved config of ``path`` (defaults when None) with ``overrides``; validated."""
    cfg = _resolve(Path(path)) if path else copy.deepcopy(DEFAULTS)
    cfg = _merge(cfg, parse_overrides(overrides), "--set")
    validate_config(cfg, str(path) if path else "--set")
    return cfg


def merge_config(cfg: dict, overrides: list[str] | None, file: str = "--set") -> dict:
    """``cfg`` with ``key=value`` overrides applied and validated; keys missing from ``cfg`` (a
    config saved before they existed) take their defaults."""
    out = _merge(_deep_update(DEFAULTS, cfg), parse_overrides(overrides), file)
    validate_config(out, file)
    return out


def validate_config(cfg: dict, file: str) -> None:
    """Check values that keys alone cannot (strategy keys, choices, positivity)."""
    from ..catalog import sampler_defaults, strategy_defaults
    from ..nn.contrastive_options import check_contrastive_config
    from ..plugins import import_modules
    from ..samplers import check_sampler_config
    from ..spaces import list_spaces
    from ..spaces.registry import check_space_options

    check_values({"custom_imports": cfg.get("custom_imports", [])}, file)
    import_modules(cfg.get("custom_imports"), file)
    if cfg["space"] not in list_spaces():
        raise InputError(f"unknown search space {cfg['space']!r}; known: {', '.join(list_spaces())}", file=file, key="space")
    for section, defaults_of in (("strategy", strategy_defaults), ("sampler", sampler_defaults)):
        defaults = defaults_of(cfg[section].get("name"), file)
        for key in cfg[section]:
            if key not in defaults:
                raise InputError(f"unknown key for {section} {cfg[section]['name']!r} (known: {', '.join(sorted(defaults))})",
                                 file=file, key=f"{section}.{key}")
            _check_like_default(cfg[section][key], defaults[key], file, f"{section}.{key}")
        cfg[section] = {**defaults, **cfg[section]}
    check_values(cfg, file)
    check_sampler_config(cfg, file)
    if cfg["model"].get("reorder") and not cfg["model"].get("pretrained"):
        raise InputError("reorders the pretrained weights; set model.pretrained too", file=file, key="model.reorder")
    check_space_options(cfg, file)
    check_contrastive_config(cfg, file)
    low, high = cfg["data"]["crop_scale"]
    if low > high:
        raise InputError(f"must be [low, high] with low <= high, got {cfg['data']['crop_scale']!r}", file=file,
                         key="data.crop_scale")


def _check_like_default(value, default, file: str, key: str) -> None:
    """A strategy or sampler value whose default is a flag or a number must be one too (a whole number
    where the default is an integer); the component checks ranges and structured values itself."""
    import math

    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise InputError(f"must be true or false, got {value!r}", file=file, key=key)
    elif isinstance(default, (int, float)):
        number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not number:
            raise InputError(f"must be a number, got {value!r}", file=file, key=key)
        if isinstance(default, int) and value != int(value):
            raise InputError(f"must be an integer, got {value!r}", file=file, key=key)


def _drop(cfg: dict, dotted: str) -> None:
    node, parts = cfg, dotted.split(".")
    for part in parts[:-1]:
        node = node.get(part, {})
    node.pop(parts[-1], None)


def training_fingerprint(cfg: dict) -> str:
    """Hash of everything that determines the trained weights (not logging, eval, checkpoint cadence)."""
    trimmed = without_added_later(cfg)  # runs from before a key existed keep their fingerprint
    for key in NON_TRAINING_KEYS:
        _drop(trimmed, key)
    return hashlib.sha256(json.dumps(trimmed, sort_keys=True, default=str).encode()).hexdigest()[:16]


def dump_config(cfg: dict) -> str:
    """YAML text of a resolved config (written beside every run)."""
    return yaml.safe_dump(cfg, sort_keys=False)
