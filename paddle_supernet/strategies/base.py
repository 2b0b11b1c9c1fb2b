"""The strategy interface and the losses strategies share."""
from __future__ import annotations

import paddle
import paddle.nn.functional as F

from ..errors import InputError

REDUCTIONS = ("sum", "mean")


def cross_entropy(logits, labels):
    return F.cross_entropy(logits, labels)


def kl_to_teacher(student_logits, teacher_logits):
    """KL(teacher || student), averaged over the batch; the teacher is not differentiated."""
    teacher = F.softmax(teacher_logits.detach(), axis=1)
    log_teacher = F.log_softmax(teacher_logits.detach(), axis=1)
    return (teacher * (log_teacher - F.log_softmax(student_logits, axis=1))).sum(axis=1).mean()


def accuracy(logits, labels) -> float:
    return float((logits.argmax(axis=1) == labels).astype("float32").mean())


class TrainingStrategy:
    """Base class; subclasses set :attr:`defaults` and implement :meth:`step`."""

    defaults: dict = {}

    def __init__(self, space, seed: int):
        self.space, self.seed = space, seed

    def sample(self, epoch: int, step: int, k: int) -> str:
        """The k-th subnet of a step: identical on every rank and after a resume."""
        return self.space.sample(self.seed, epoch, step, k)

    def step(self, model: paddle.nn.Layer, images, labels, epoch: int, step: int) -> dict:
        """Forward and backward for one batch; returns scalars to log."""
        raise NotImplementedError

    @staticmethod
    def _check_reduce(reduce: str) -> str:
        if reduce not in REDUCTIONS:
            raise InputError(f"must be one of {', '.join(REDUCTIONS)}, got {reduce!r}", key="strategy.reduce")
        return reduce
