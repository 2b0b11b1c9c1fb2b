"""Large-to-small progressive shrinking within one run (OFA), as a sampler.

The run's steps are cut into consecutive parts by ``fraction``; each part
allows per-stage ``depth`` and ``width`` ranges (as the ``phases`` sampler's),
and archs are uniform within them. Unlike ``phases`` there is one learning-rate
schedule and one optimizer over the whole run: this is the OFA row of the 2022
winner's Table 2 (its stage 2 of 5 epochs shrinking from the largest net), where
``phases`` restarts schedule and optimizer per phase of whole epochs as the
runner-up's APS does.

Example:
    >>> from paddle_supernet.spaces import get_space
    >>> sampler = ShrinkingSampler(get_space("cvpr22_resnet48"), 0, total_epochs=1, stages=[
    ...     {"fraction": 0.5, "depth": [[5, 5], [5, 5], [8, 8], [5, 5]], "width": [[1, 1]] * 4},
    ...     {"fraction": 0.5}])
    >>> sampler.bind(10)
    >>> sampler.archs(0, 0, 1)[0][1:5], sampler.archs(0, 4, 1)[0][1:5]
    ('5585', '5585')
"""
from __future__ import annotations

import math

from ..errors import InputError
from ..rng import local_rng
from .base import STREAMS, Sampler, check_count, draw_from_choices
from .phases import restrict_choices

STAGE_KEYS = ("fraction", "depth", "width")


class ShrinkingSampler(Sampler):
    """See the module docstring. ``stages``: ``[{fraction, depth, width}, ...]`` with fractions summing to 1."""

    def __init__(self, space, seed: int, distribution=None, variant=None, stages=None, total_epochs: int | None = None):
        super().__init__(space, seed, distribution, variant)
        if not isinstance(stages, list) or not stages:
            raise InputError("must be a non-empty list of {fraction, depth, width}", key="sampler.stages")
        all_choices = space.choices(distribution)
        self.fractions, self.choices = [], []
        for i, spec in enumerate(stages):
            key = f"sampler.stages[{i}]"
            if not isinstance(spec, dict) or set(spec) - set(STAGE_KEYS):
                raise InputError(f"must be a mapping with keys {', '.join(STAGE_KEYS)}, got {spec!r}", key=key)
            fraction = spec.get("fraction")
            if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction <= 1:
                raise InputError(f"must be a number in (0, 1], got {fraction!r}", key=f"{key}.fraction")
            self.fractions.append(float(fraction))
            self.choices.append(restrict_choices(space, all_choices, spec.get("depth"), spec.get("width"), key))
        if not math.isclose(sum(self.fractions), 1.0, abs_tol=1e-9):
            raise InputError(f"the fractions sum to {sum(self.fractions):g}, not 1", key="sampler.stages")
        self.total_epochs = total_epochs

    def stage_at(self, epoch: int, step: int) -> int:
        """The index of the part that (epoch, step) falls in."""
        if self.steps_per_epoch is None or self.total_epochs is None:
            raise RuntimeError("the shrinking sampler needs bind(steps_per_epoch) and the run's epochs")
        position = (epoch * self.steps_per_epoch + step) / (self.total_epochs * self.steps_per_epoch)
        end = 0.0
        for index, fraction in enumerate(self.fractions):
            end += fraction
            if position < end - 1e-12:
                return index
        return len(self.fractions) - 1

    def archs(self, epoch: int, step: int, count: int) -> list[str]:
        check_count(count)
        choices = self.choices[self.stage_at(epoch, step)]
        return [draw_from_choices(self.space, choices, local_rng(self.seed, epoch, step, k, STREAMS["shrinking"]),
                                  self.distribution) for k in range(count)]
