"""Algorithm 1 of the 2021 winner (candidates enhancement and progressive training).

Each step: one CE step on the largest subnet (the teacher), then K uniformly
sampled subnets, each with loss ``(1 - alpha) * CE + alpha * KL(teacher || subnet)``
against the teacher's logits of this same step; gradients of all of them
accumulate (``reduce``: ``sum`` as the released code, or ``mean`` over the K
subnets) before the loop's single optimizer step.
"""
from __future__ import annotations

from ..errors import InputError
from .base import TrainingStrategy, accuracy, cross_entropy, kl_to_teacher


class DistillSandwich(TrainingStrategy):
    defaults = {"k": 8, "alpha": 0.8, "reduce": "sum", "teacher_ce": True}

    def __init__(self, space, seed: int, k: int = 8, alpha: float = 0.8, reduce: str = "sum", teacher_ce: bool = True):
        super().__init__(space, seed)
        if k < 0:
            raise InputError(f"must be at least 0, got {k}", key="strategy.k")
        if not 0.0 <= alpha <= 1.0:
            raise InputError(f"must be in [0, 1], got {alpha}", key="strategy.alpha")
        self.k, self.alpha, self.teacher_ce = k, float(alpha), bool(teacher_ce)
        self.reduce = self._check_reduce(reduce)
        self.teacher_code = space.largest()

    def step(self, model, images, labels, epoch: int, step: int) -> dict:
        model.set_active(self.teacher_code)
        teacher_logits = model(images)
        teacher_loss = cross_entropy(teacher_logits, labels)
        if self.teacher_ce:
            teacher_loss.backward()
        teacher_logits = teacher_logits.detach()
        scalars = {"loss/teacher_ce": float(teacher_loss), "acc/teacher_train": accuracy(teacher_logits, labels)}
        if self.k == 0:
            return scalars
        scale = 1.0 / self.k if self.reduce == "mean" else 1.0
        ce_sum = kl_sum = 0.0
        for k in range(self.k):
            model.set_active(self.sample(epoch, step, k))
            logits = model(images)
            ce = cross_entropy(logits, labels)
            kl = kl_to_teacher(logits, teacher_logits)
            (((1.0 - self.alpha) * ce + self.alpha * kl) * scale).backward()
            ce_sum += float(ce)
            kl_sum += float(kl)
        scalars.update({"loss/subnet_ce": ce_sum / self.k, "loss/subnet_kl": kl_sum / self.k})
        return scalars
