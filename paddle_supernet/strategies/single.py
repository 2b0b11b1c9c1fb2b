"""Single-network strategies: uniform single-path sampling and training one fixed arch."""
from __future__ import annotations

from ..catalog import STRATEGY_DEFAULTS
from ..errors import InputError
from .base import TrainingStrategy, accuracy, ce_each, cross_entropy


class UniformSampling(TrainingStrategy):
    """Single-path one-shot: K subnets per step from the sampler (uniform by default), CE each,
    gradients accumulated; the runner-up's APS is this with the phases sampler.

    ``reduce``: ``mean`` divides each subnet's loss by the number of subnets, ``sum`` does not.
    """

    defaults = STRATEGY_DEFAULTS["uniform"]

    def __init__(self, space, seed: int, k: int = 1, reduce: str = "mean"):
        super().__init__(space, seed)
        if k < 1:
            raise InputError(f"must be at least 1, got {k}", key="strategy.k")
        self.k, self.reduce = k, self._check_reduce(reduce)

    def step(self, model, images, labels, epoch: int, step: int) -> dict:
        codes = self.step_archs(epoch, step, self.k)
        scale = 1.0 / len(codes) if self.reduce == "mean" else 1.0
        return {"loss/subnet_ce": ce_each(model, images, labels, codes, scale)}


class FixedArch(TrainingStrategy):
    """Train one arch with CE: ``arch`` is a code, ``largest`` or ``smallest`` (largest-net pretraining)."""

    defaults = STRATEGY_DEFAULTS["fixed"]

    def __init__(self, space, seed: int, arch: str = "largest"):
        super().__init__(space, seed)
        self.code = {"largest": space.largest, "smallest": space.smallest}.get(arch, lambda: arch)()
        space.validate(self.code)

    def step(self, model, images, labels, epoch: int, step: int) -> dict:
        model.set_active(self.code)
        logits = model(images)
        loss = cross_entropy(logits, labels)
        loss.backward()
        return {"loss/ce": float(loss), "acc/train": accuracy(logits, labels)}


class PlainStep(TrainingStrategy):
    """CE on a plain (non-elastic) network: stand-alone training through the same loop."""

    def __init__(self, space=None, seed: int = 0):
        super().__init__(space, seed)

    def step(self, model, images, labels, epoch: int, step: int) -> dict:
        logits = model(images)
        loss = cross_entropy(logits, labels)
        loss.backward()
        return {"loss/ce": float(loss), "acc/train": accuracy(logits, labels)}
