"""Types and ranges of every config value, declared once (keys come from the defaults tree).

Each entry of :data:`SCHEMA` maps a dotted key to a rule; :func:`check_values` applies
them all and raises one :class:`InputError` naming the file, the key and the problem.
Keys whose value is structured (``model.branches``, ``model.width_map``) or chosen from a
registry (``space``, ``strategy.*``) are checked where that knowledge lives.

Example:
    >>> check_values({"optimizer": {"lr": -1}}, "x.yaml", {"optimizer.lr": Number(above=0)})
    Traceback (most recent call last):
    ...
    paddle_supernet.errors.InputError: x.yaml: optimizer.lr: must be a number > 0, got -1
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError


@dataclass(frozen=True)
class Integer:
    low: int | None = None
    high: int | None = None
    nullable: bool = False

    def problem(self, v):
        if v is None and self.nullable:
            return None
        wrong = isinstance(v, bool) or not isinstance(v, int) or \
            (self.low is not None and v < self.low) or (self.high is not None and v > self.high)
        return f"must be an integer{_range(self.low, self.high)}{' or null' if self.nullable else ''}" if wrong else None


@dataclass(frozen=True)
class Number:
    low: float | None = None
    high: float | None = None
    above: float | None = None  # exclusive lower bound

    def problem(self, v):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or v in (float("inf"), float("-inf")):
            return f"must be a number{self._describe()}"  # NaN and infinities are no numbers here
        if (self.low is not None and v < self.low) or (self.high is not None and v > self.high) or \
                (self.above is not None and v <= self.above):
            return f"must be a number{self._describe()}"
        return None

    def _describe(self) -> str:
        return f" > {self.above:g}" if self.above is not None else _range(self.low, self.high)


@dataclass(frozen=True)
class Boolean:
    def problem(self, v):
        return None if isinstance(v, bool) else "must be true or false"


@dataclass(frozen=True)
class Choice:
    options: tuple
    nullable: bool = False

    def problem(self, v):
        if (v is None and self.nullable) or v in self.options:
            return None
        return f"must be one of {', '.join(map(str, self.options))}{' or null' if self.nullable else ''}"


@dataclass(frozen=True)
class Text:
    nullable: bool = False

    def problem(self, v):
        return None if isinstance(v, str) and v or (v is None and self.nullable) else \
            f"must be a non-empty string{' or null' if self.nullable else ''}"


@dataclass(frozen=True)
class FolderName:
    """One plain path component: a run or stage folder name that stays inside its parent folder."""

    def problem(self, v):
        return folder_name_problem(v)


def folder_name_problem(v) -> str | None:
    """Why ``v`` is not a single plain folder name (``name``, chain and stage names), or None.

    >>> folder_name_problem("stage1") is None, folder_name_problem("../x") is None
    (True, False)
    """
    if not isinstance(v, str) or not v.strip() or v in (".", "..") or any(c in v for c in "/\\\0"):
        return "must be a single folder name (not empty, '.' or '..', and without '/' or '\\')"
    return None


@dataclass(frozen=True)
class Numbers:
    """A list of ``length`` numbers, each checked by ``each``; optionally null."""
    length: int
    each: Number
    nullable: bool = False

    def problem(self, v):
        if v is None and self.nullable:
            return None
        if not isinstance(v, (list, tuple)) or len(v) != self.length or any(self.each.problem(x) for x in v):
            return f"must be a list of {self.length} numbers{self.each._describe()}{' or null' if self.nullable else ''}"
        return None


@dataclass(frozen=True)
class ModuleNames:
    """A list of dotted Python module names."""

    def problem(self, v):
        ok = isinstance(v, list) and all(isinstance(x, str) and all(part.isidentifier() for part in x.split("."))
                                         for x in v)
        return None if ok else "must be a list of module names (dotted, as in an import statement)"


def _range(low, high) -> str:
    if low is not None and high is not None:
        return f" in [{low:g}, {high:g}]"
    if low is not None:
        return f" >= {low:g}"
    if high is not None:
        return f" <= {high:g}"
    return ""


POSITIVE = Integer(low=1)
SCHEMA = {
    "name": FolderName(),
    "seed": Integer(low=0),
    "custom_imports": ModuleNames(),
    "model.shortcut": Choice(("projection", "official")),
    "model.activation": Choice(("relu", "prelu")),
    "model.prelu_init": Number(),
    "model.teacher_weights": Choice(("shared", "separate")),
    "model.freeze_teacher": Boolean(),
    "model.small_input": Boolean(),
    "model.width_scale": Number(above=0),
    "model.distribution": Choice(("test", "tied", "free"), nullable=True),
    "model.bn_stats": Choice(("batch", "frozen")),
    "model.pretrained": Text(nullable=True),
    "model.reorder": Boolean(),
    "data.name": Choice(("fashion_mnist", "cifar100", "image_folder", "imagenet")),
    "data.root": Text(nullable=True),
    "data.image_size": POSITIVE,
    "data.train_subset": Integer(low=1, nullable=True),
    "data.val_subset": Integer(low=1, nullable=True),
    "data.subset_seed": Integer(low=0),
    "data.batch_size": POSITIVE,
    "data.mean": Numbers(3, Number(low=0, high=1), nullable=True),
    "data.std": Numbers(3, Number(above=0), nullable=True),
    "data.resize": Integer(low=1, nullable=True),
    "data.crop_scale": Numbers(2, Number(above=0, high=1)),
    "data.workers": Integer(low=0),
    "data.augment.crop_padding": Integer(low=0),
    "log.rank_check_every": Integer(low=1),
    "data.augment.resized_crop": Numbers(2, Number(above=0, high=1), nullable=True),
    "data.augment.flip": Boolean(),
    "data.augment.brightness": Number(low=0, high=1),
    "data.augment.contrast": Number(low=0, high=1),
    "data.augment.rotation": Number(low=0, high=180),
    "data.augment.probability": Number(low=0, high=1),
    "optimizer.lr": Number(above=0),
    "optimizer.lr_scale": Number(above=0),
    "optimizer.momentum": Number(low=0, high=1),
    "optimizer.weight_decay": Number(low=0),
    "optimizer.nesterov": Boolean(),
    "schedule.epochs": POSITIVE,
    "schedule.warmup_steps": Integer(low=0),
    "schedule.min_lr": Number(low=0),
    "schedule.cosine_unit": Choice(("step", "epoch")),
    "schedule.cosine_length": Integer(low=1, nullable=True),
    "data.order": Choice(("shuffled", "class_sorted")),
    "eval.calibration": Choice(("exact", "momentum")),
    "checkpoint.every_steps": POSITIVE,
    "checkpoint.init_from": Text(nullable=True),
    "checkpoint.export_full": Text(nullable=True),
    "log.every_steps": POSITIVE,
    "log.every_seconds": Number(low=0),
    "log.visualdl": Boolean(),
    "eval.archs": Text(nullable=True),
    "eval.gt": Text(nullable=True),
    "eval.archs_subset": Integer(low=1, nullable=True),
    "eval.if_archs_missing": Choice(("error", "sample")),
    "eval.sample": POSITIVE,
    "eval.sample_seed": Integer(low=0),
    "eval.score": Choice(("accuracy", "neg_loss")),
    "eval.calib_images": POSITIVE,
    "eval.backend": Choice(("dygraph", "inference", "shared_inference")),
    "eval.threads": Integer(low=0),
    "eval.calib_backend": Choice(("dygraph", "inference")),
    "eval.calib_augment": Boolean(),
    "eval.calib_batch_size": POSITIVE,
    "eval.batch_size": POSITIVE,
    "eval.val_subset": Integer(low=1, nullable=True),
}


def check_values(cfg: dict, file: str, schema: dict = SCHEMA) -> None:
    """Apply every rule of ``schema`` to ``cfg``; the first problem raises :class:`InputError`."""
    for dotted, rule in schema.items():
        node = cfg
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                break
            node = node[part]
        else:
            problem = rule.problem(node)
            if problem:
                raise InputError(f"{problem}, got {node!r}", file=file, key=dotted)
