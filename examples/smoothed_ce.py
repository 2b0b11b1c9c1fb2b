"""A strategy of your own: cross-entropy with label smoothing on the sampled subnets.

``register_strategy`` adds the class and its config keys (with defaults); a config lists this
module under ``custom_imports`` and names ``strategy: {name: smoothed_ce, ...}``
(``configs/examples/plain_cnn_smoothed.yaml``). Which archs a step trains stays the sampler's
job, so the strategy works with every sampler and space.

Example:
    >>> import examples.smoothed_ce  # noqa: F401          # doctest: +SKIP
    >>> from paddle_supernet.strategies import build_strategy          # doctest: +SKIP
    >>> strategy = build_strategy({"name": "smoothed_ce", "k": 2}, space, seed=0)  # doctest: +SKIP
"""
from __future__ import annotations

import functools

import paddle.nn.functional as F

from paddle_supernet.errors import InputError
from paddle_supernet.strategies import TrainingStrategy, register_strategy
from paddle_supernet.strategies.base import ce_each


def smoothed_cross_entropy(logits, labels, smoothing: float):
    """``(1 - smoothing) x CE + smoothing x the mean over classes of -log p``, averaged over the batch."""
    log_probs = F.log_softmax(logits, axis=1)
    ce = F.nll_loss(log_probs, labels)
    return ce if smoothing == 0 else (1.0 - smoothing) * ce - smoothing * log_probs.mean(axis=1).mean()


@register_strategy("smoothed_ce", k=1, smoothing=0.1, reduce="mean")
class SmoothedCE(TrainingStrategy):
    """K subnets from the sampler, label-smoothed CE each, gradients accumulated (``reduce: mean``
    divides each loss by K)."""

    def __init__(self, space, seed: int, k: int = 1, smoothing: float = 0.1, reduce: str = "mean"):
        super().__init__(space, seed)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise InputError(f"must be an integer >= 1, got {k!r}", key="strategy.k")
        if isinstance(smoothing, bool) or not isinstance(smoothing, (int, float)) or not 0 <= smoothing < 1:
            raise InputError(f"must be a number in [0, 1), got {smoothing!r}", key="strategy.smoothing")
        self.k, self.smoothing, self.reduce = k, float(smoothing), self._check_reduce(reduce)

    def step(self, model, images, labels, epoch: int, step: int) -> dict:
        codes = self.step_archs(epoch, step, self.k)
        scale = 1.0 / len(codes) if self.reduce == "mean" else 1.0
        loss = functools.partial(smoothed_cross_entropy, smoothing=self.smoothing)
        return {"loss/subnet_smoothed_ce": ce_each(model, images, labels, codes, scale, loss)}
