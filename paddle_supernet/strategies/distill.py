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

import paddle

from ..catalog import STRATEGY_DEFAULTS
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
        return self._students(model, images, labels, epoch, step, teacher_logits, scalars)

    def _students(self, model, images, labels, epoch, step, teacher_logits, scalars) -> dict:
        """K sampled subnets against ``teacher_logits``, gradients accumulated."""
        if self.k == 0:
            return scalars
        codes = self.step_archs(epoch, step, self.k)
        scalars = self._train_archs(model, images, labels, codes, teacher_logits, scalars)
        if len(codes) != self.k:
            scalars["sampler/archs"] = float(len(codes))
        return scalars

    def _train_archs(self, model, images, labels, codes, teacher_logits, scalars) -> dict:
        """Each of ``codes`` with :meth:`subnet_loss`, gradients accumulated; mean losses added to ``scalars``."""
        scale = 1.0 / len(codes) if self.reduce == "mean" else 1.0
        sums: dict = {}
        for code in codes:
            model.set_active(code)
            loss, parts = self.subnet_loss(model(images), labels, teacher_logits)
            (loss * scale).backward()
            for name, value in parts.items():
                sums[name] = sums.get(name, 0.0) + float(value)
        scalars.update({name: value / len(codes) for name, value in sums.items()})
        return scalars


class DistillSandwich(_TeacherStrategy):
    """2021 Algorithm 1 (see the module docstring); ``teacher_ce``: train the in-place teacher with CE.

    ``look`` > 0 adds the released stage-1 "look / max-recover" step (not in the paper): before
    the subnets, ``look`` extra uniform archs have their soft-label CE to the teacher measured;
    after the optimizer step each is measured again, and those whose loss rose (at most
    ``max_recover``) are back-propagated for one more optimizer step.
    """

    defaults = STRATEGY_DEFAULTS["distill"]
    LOOK_STREAM_OFFSET = 10_000  # the look archs' k in the (seed, epoch, step, k) RNG: never a subnet's

    def __init__(self, space, seed: int, k: int = 8, alpha: float = 0.8, reduce: str = "sum", teacher_ce: bool = True,
                 teacher: str = "largest", teacher_weights=None, look: int = 0, max_recover: int = 5):
        if not 0.0 <= alpha <= 1.0:
            raise InputError(f"must be in [0, 1], got {alpha}", key="strategy.alpha")
        for key, value in (("look", look), ("max_recover", max_recover)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InputError(f"must be an integer >= 0, got {value!r}", key=f"strategy.{key}")
        super().__init__(space, seed, k, reduce, teacher, teacher_weights, bool(teacher_ce))
        self.alpha, self.look, self.max_recover = float(alpha), look, max_recover
        self.steps_twice = look > 0
        self._looked = None

    def subnet_loss(self, logits, labels, teacher_logits):
        ce, kl = cross_entropy(logits, labels), kl_to_teacher(logits, teacher_logits)
        return (1.0 - self.alpha) * ce + self.alpha * kl, {"loss/subnet_ce": ce, "loss/subnet_kl": kl}

    def _look_losses(self, model, images, codes, teacher_logits, backward_if_above=None):
        losses, rose = [], 0
        for i, code in enumerate(codes):
            model.set_active(code)
            if backward_if_above is None:
                with paddle.no_grad():
                    losses.append(float(soft_cross_entropy(model(images), teacher_logits)))
                continue
            loss = soft_cross_entropy(model(images), teacher_logits)
            if float(loss) > backward_if_above[i]:
                loss.backward()
                rose += 1
                if rose >= self.max_recover:
                    break
        return losses if backward_if_above is None else rose

    def step(self, model, images, labels, epoch: int, step: int) -> dict:
        if not self.look:
            return super().step(model, images, labels, epoch, step)
        teacher_logits, scalars = self.teacher.logits(model, images, labels)
        codes = [self.sample(epoch, step, self.LOOK_STREAM_OFFSET + i) for i in range(self.look)]
        self._looked = (codes, self._look_losses(model, images, codes, teacher_logits), teacher_logits)
        return self._students(model, images, labels, epoch, step, teacher_logits, scalars)

    def after_step(self, model, images, labels, epoch: int, step: int):
        if not self._looked:
            return {}, False
        codes, before, teacher_logits = self._looked
        self._looked = None
        rose = self._look_losses(model, images, codes, teacher_logits, backward_if_above=before)
        return {"look/recovered": float(rose)}, rose > 0


class TeacherKD(_TeacherStrategy):
    """The 2022 official baseline (see the module docstring)."""

    defaults = STRATEGY_DEFAULTS["kd"]

    def __init__(self, space, seed: int, k: int = 2, ce_weight: float = 1.0, kd_weight: float = 1.0,
                 temperature: float = 1.0, reduce: str = "sum", teacher: str = "external", teacher_weights=None):
        if isinstance(k, int) and not isinstance(k, bool) and k < 1:
            raise InputError(f"must be an integer >= 1 (the subnets a step trains; the teacher is frozen), got {k!r}",
                             key="strategy.k")
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
