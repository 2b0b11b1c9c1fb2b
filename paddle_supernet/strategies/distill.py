"""Distillation strategies: 2021 Algorithm 1 and the 2022 official baseline, on one teacher mechanism.

``distill`` (2021 winner's Algorithm 1): the teacher's logits first (by
default the supernet's largest arch, with a CE step on it), then K uniformly
sampled subnets, each with loss ``(1 - alpha) * CE + alpha * KL(teacher || subnet)``;
gradients accumulate (``reduce``: ``sum`` as the released code, or ``mean``
over the K subnets) before the loop's single optimizer step.

``kd`` (2022 official baseline): K subnets (default 2) from the configured
distribution, each with ``ce_weight * CE + kd_weight * soft-label CE`` to a
frozen external teacher (the pretrained full ResNet48, default) at
``temperature``; the teacher's forward runs once per step (the released code
ran it once per subnet, with the same result).

Example:
    >>> strategy = build_strategy({"name": "kd", "teacher_weights": "resnet48.pdparams"}, space, seed=0)  # doctest: +SKIP
"""
from __future__ import annotations

from ..errors import InputError
from .base import TrainingStrategy, cross_entropy, kl_to_teacher, soft_cross_entropy
from .teachers import TEACHERS, build_teacher


class _TeacherStrategy(TrainingStrategy):
    """Shared parts: K, reduction, and a teacher built in :meth:`setup`."""

    def __init__(self, space, seed: int, k: int, reduce: str, teacher: str, teacher_weights, train_ce: bool):
        super().__init__(space, seed)
        if not isinstance(k, int) or k < 0:
            raise InputError(f"must be an integer >= 0, got {k!r}", key="strategy.k")
        if teacher not in TEACHERS:
            raise InputError(f"must be one of {', '.join(TEACHERS)}, got {teacher!r}", key="strategy.teacher")
        self.k, self.reduce = k, self._check_reduce(reduce)
        self.teacher_source, self.teacher_weights, self.train_ce = teacher, teacher_weights, train_ce
        self.teacher = build_teacher(teacher, None, space, None, None, train_ce) if teacher == "largest" else None

    def setup(self, run_cfg: dict, num_classes: int) -> None:
        if self.teacher is None:
            self.teacher = build_teacher(self.teacher_source, self.teacher_weights, self.space, run_cfg, num_classes)

    def subnet_loss(self, logits, labels, teacher_logits):
        """``(loss, {name: value})`` of one subnet."""
        raise NotImplementedError

    def step(self, model, images, labels, epoch: int, step: int) -> dict:
        if self.teacher is None:
            raise RuntimeError("call setup() before step(): the external teacher is not loaded")
        teacher_logits, scalars = self.teacher.logits(model, images, labels)
        if self.k == 0:
            return scalars
        scale = 1.0 / self.k if self.reduce == "mean" else 1.0
        sums: dict = {}
        for k in range(self.k):
            model.set_active(self.sample(epoch, step, k))
            loss, parts = self.subnet_loss(model(images), labels, teacher_logits)
            (loss * scale).backward()
            for name, value in parts.items():
                sums[name] = sums.get(name, 0.0) + float(value)
        scalars.update({name: value / self.k for name, value in sums.items()})
        return scalars


class DistillSandwich(_TeacherStrategy):
    """2021 Algorithm 1 (see the module docstring); ``teacher_ce``: train the in-place teacher with CE."""

    defaults = {"k": 8, "alpha": 0.8, "reduce": "sum", "teacher_ce": True, "teacher": "largest", "teacher_weights": None}

    def __init__(self, space, seed: int, k: int = 8, alpha: float = 0.8, reduce: str = "sum", teacher_ce: bool = True,
                 teacher: str = "largest", teacher_weights=None):
        if not 0.0 <= alpha <= 1.0:
            raise InputError(f"must be in [0, 1], got {alpha}", key="strategy.alpha")
        super().__init__(space, seed, k, reduce, teacher, teacher_weights, bool(teacher_ce))
        self.alpha = float(alpha)

    def subnet_loss(self, logits, labels, teacher_logits):
        ce, kl = cross_entropy(logits, labels), kl_to_teacher(logits, teacher_logits)
        return (1.0 - self.alpha) * ce + self.alpha * kl, {"loss/subnet_ce": ce, "loss/subnet_kl": kl}


class TeacherKD(_TeacherStrategy):
    """The 2022 official baseline (see the module docstring)."""

    defaults = {"k": 2, "ce_weight": 1.0, "kd_weight": 1.0, "temperature": 1.0, "reduce": "sum",
                "teacher": "external", "teacher_weights": None}

    def __init__(self, space, seed: int, k: int = 2, ce_weight: float = 1.0, kd_weight: float = 1.0,
                 temperature: float = 1.0, reduce: str = "sum", teacher: str = "external", teacher_weights=None):
        for key, value in (("ce_weight", ce_weight), ("kd_weight", kd_weight)):
            if not isinstance(value, (int, float)) or value < 0:
                raise InputError(f"must be a number >= 0, got {value!r}", key=f"strategy.{key}")
        if not isinstance(temperature, (int, float)) or temperature <= 0:
            raise InputError(f"must be a number > 0, got {temperature!r}", key="strategy.temperature")
        super().__init__(space, seed, k, reduce, teacher, teacher_weights, train_ce=False)
        self.ce_weight, self.kd_weight, self.temperature = float(ce_weight), float(kd_weight), float(temperature)

    def subnet_loss(self, logits, labels, teacher_logits):
        ce, kd = cross_entropy(logits, labels), soft_cross_entropy(logits, teacher_logits, self.temperature)
        return self.ce_weight * ce + self.kd_weight * kd, {"loss/subnet_ce": ce, "loss/subnet_kd": kd}
