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


def soft_cross_entropy(student_logits, teacher_logits, temperature: float = 1.0):
    """``-sum softmax(teacher / T) * log_softmax(student / T)`` averaged over the batch, times T^2
    (the 2022 baseline's soft-label CE at T = 1). Same gradient as KL to the teacher."""
    t = float(temperature)
    target = F.softmax(teacher_logits.detach() / t, axis=1)
    loss = -(target * F.log_softmax(student_logits / t, axis=1)).sum(axis=1).mean()
    return loss * (t * t) if t != 1.0 else loss


def ce_each(model, images, labels, codes, scale: float, loss_fn=cross_entropy) -> float:
    """``scale`` x ``loss_fn(logits, labels)`` (default: CE) of each arch of ``codes`` back-propagated
    (gradients accumulate); the mean loss."""
    total = 0.0
    for code in codes:
        model.set_active(code)
        loss = loss_fn(model(images), labels)
        (loss * scale).backward()
        total += float(loss)
    return total / len(codes)


def accuracy(logits, labels) -> float:
    return float((logits.argmax(axis=1) == labels).astype("float32").mean())


class TrainingStrategy:
    """Base class; subclasses set :attr:`defaults` and implement :meth:`step`."""

    defaults: dict = {}

    def __init__(self, space, seed: int):
        self.space, self.seed = space, seed
        self.distribution = None  # the space's default; set from model.distribution by build_strategy
        self.sampler = None       # which archs a step trains; set by build_strategy (None: uniform)

    def setup(self, run_cfg: dict, num_classes: int) -> None:
        """Called once by the loop before training (e.g. to load an external teacher)."""

    def sample(self, epoch: int, step: int, k: int) -> str:
        """The k-th uniform draw of a step (outside the sampler, e.g. the released look archs)."""
        return self.space.sample(self.seed, epoch, step, k, distribution=self.distribution)

    def step_archs(self, epoch: int, step: int, count: int) -> list[str]:
        """The archs the sampler gives this step: identical on every rank and after a resume."""
        if self.sampler is None:
            from ..samplers import UniformSampler

            self.sampler = UniformSampler(self.space, self.seed, self.distribution)
        self.last_archs = self.sampler.archs(epoch, step, count)
        return self.last_archs

    #: the archs the last step trained (compared across data-parallel ranks)
    last_archs: list = []

    def agreement_digest(self) -> str:
        """What every data-parallel rank must hold alike after a step: its archs and its history."""
        import hashlib
        import json

        text = json.dumps({"archs": self.last_archs, "state": self.state_dict()}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def state_dict(self) -> dict:
        """History a resumed run needs (JSON-able), saved in the checkpoint; the sampler's included."""
        return {"sampler": self.sampler.state_dict()} if self.sampler is not None else {}

    def load_state_dict(self, state: dict) -> None:
        if self.sampler is not None and "sampler" in state:
            self.sampler.load_state_dict(state["sampler"])

    def step(self, model: paddle.nn.Layer, images, labels, epoch: int, step: int) -> dict:
        """Forward and backward for one batch; returns scalars to log."""
        raise NotImplementedError

    #: True when :meth:`after_step` may ask for a second optimizer step (single process only)
    steps_twice = False

    def after_step(self, model: paddle.nn.Layer, images, labels, epoch: int, step: int) -> tuple[dict, bool]:
        """Called after the loop's optimizer step: (scalars, whether gradients were accumulated for
        one more optimizer step). Default: nothing."""
        return {}, False

    @staticmethod
    def _check_reduce(reduce: str) -> str:
        if reduce not in REDUCTIONS:
            raise InputError(f"must be one of {', '.join(REDUCTIONS)}, got {reduce!r}", key="strategy.reduce")
        return reduce
