"""A SuperBatchNorm2D whose mode follows ``self.training`` on every call, and BN calibration.

PaddleSlim's ``SuperBatchNorm2D`` latches ``_use_global_stats`` on its first
forward: if that call is in eval mode, training never again uses batch
statistics and recalibration silently does nothing; if it is in train mode,
eval forwards keep overwriting the running statistics. :class:`SuperBN2D`
re-derives the mode on every call and normalises the leading ``C`` channels
of its statistics and affine parameters, ``C`` being the input's channels.

Example:
    >>> bn = SuperBN2D(16)                       # doctest: +SKIP
    >>> calibrate_bn(model, calibration_batches) # doctest: +SKIP
"""
from __future__ import annotations

from typing import Iterable

import paddle
import paddle.nn.functional as F
from paddleslim.nas.ofa.layers import SuperBatchNorm2D

from .branches import AffineBranches


class SuperBN2D(AffineBranches, SuperBatchNorm2D):
    """Width-elastic BatchNorm2D with correct train/eval behaviour and exact calibration.

    Train mode: batch statistics, running statistics of the active slice updated
    with momentum (Paddle convention: ``new = m * old + (1 - m) * batch``, biased
    batch variance). Eval mode: running statistics. Calibration mode (see
    :func:`calibrate_bn`): batch statistics, and the batch mean and biased
    variance are accumulated for an exact average.
    """

    def __init__(self, num_features: int, momentum: float = 0.9, epsilon: float = 1e-5,
                 groups: list[list[int]] | None = None, frozen: bool = False, separate_teacher: bool = False):
        SuperBatchNorm2D.__init__(self, num_features, momentum=momentum, epsilon=epsilon)
        self._calib = None  # [sum of n * mean, sum of n * var, n] while calibrating
        # frozen: normalise with the stored (e.g. pretrained) statistics, sliced to the active
        # width, in training and evaluation alike, never updating them; calibration skips the layer
        self.frozen = bool(frozen)
        # progressive splitting: one scale/shift per option group (branch 0 = weight/bias);
        # the statistics stay shared, they are recalibrated for every arch anyway
        self.init_branches(groups, separate_teacher)

    def forward(self, input, option=None):
        channels = int(input.shape[1])
        full = channels == int(self._mean.shape[0])
        weight, bias = self.branch_affine(option)
        if not full:
            weight, bias = weight[:channels], bias[:channels]
        if self._calib is not None:
            return self._calibration_forward(input, weight, bias)
        if self.frozen:
            mean, variance = (self._mean, self._variance) if full else (self._mean[:channels], self._variance[:channels])
            return F.batch_norm(input, mean, variance, weight=weight, bias=bias, training=False,
                                epsilon=self._epsilon, data_format=self._data_format)
        if full or not self.training:
            mean, variance = (self._mean, self._variance) if full else (self._mean[:channels], self._variance[:channels])
            return F.batch_norm(input, mean, variance, weight=weight, bias=bias, training=self.training,
                                momentum=self._momentum, epsilon=self._epsilon, data_format=self._data_format)
        # A partial width in training: batch_norm updates the statistics it is given in place. Give it
        # copies of the active slice and write them back, which works whether slicing makes views
        # (Paddle 3) or copies (2.6) and never modifies a tensor the backward pass still needs.
        mean, variance = self._mean[:channels].clone(), self._variance[:channels].clone()
        out = F.batch_norm(input, mean, variance, weight=weight, bias=bias, training=True,
                           momentum=self._momentum, epsilon=self._epsilon, data_format=self._data_format)
        with paddle.no_grad():
            self._mean[:channels] = mean
            self._variance[:channels] = variance
        return out

    def _calibration_forward(self, input, weight, bias):
        channels = int(input.shape[1])
        # One training-mode batch_norm with momentum 0 normalises with the batch statistics and
        # writes exactly the batch mean and biased variance into the buffers it is given.
        batch_mean = paddle.zeros([channels], dtype=input.dtype)
        batch_var = paddle.zeros([channels], dtype=input.dtype)
        out = F.batch_norm(input, batch_mean, batch_var, weight=weight, bias=bias, training=True, momentum=0.0,
                           epsilon=self._epsilon, data_format=self._data_format)
        count = int(input.shape[0])
        sums = self._calib
        if sums[2] and int(sums[0].shape[0]) != channels:
            raise RuntimeError("BN width changed during calibration: activate one arch per calibration")
        sums[0] = batch_mean * count if sums[2] == 0 else sums[0] + batch_mean * count
        sums[1] = batch_var * count if sums[2] == 0 else sums[1] + batch_var * count
        sums[2] += count
        return out

    def begin_calibration(self) -> None:
        self._calib = [None, None, 0]

    def end_calibration(self) -> None:
        """Replace the active slice of the running statistics by the accumulated averages."""
        total_mean, total_var, count = self._calib
        self._calib = None
        if count == 0:
            return  # this layer was not used by the active arch
        channels = int(total_mean.shape[0])
        with paddle.no_grad():
            self._mean[:channels] = total_mean / count
            self._variance[:channels] = total_var / count


def calibrate_bn(model: paddle.nn.Layer, batches: Iterable) -> None:
    """Reset the active BN statistics of ``model`` to their exact average over ``batches``.

    Each :class:`SuperBN2D` gets mean = average over all calibration images and
    pixels of its input, variance = the image-weighted average of the per-batch
    biased variances (the statistics training normalised with). Layers built with
    ``frozen=True`` keep their statistics (the released 2022 behaviour). Forwards run
    with batch statistics and no gradient; the model's train/eval mode is restored.

    Example:
        >>> model.set_active(code)                 # doctest: +SKIP
        >>> calibrate_bn(model, calib_batches)     # doctest: +SKIP
    """
    # a few-shot or contrastive wrapper: only the network that scores (the active copy, the query backbone)
    root = model.active_network() if hasattr(model, "active_network") else model
    layers = [layer for layer in root.sublayers(include_self=True) if isinstance(layer, SuperBN2D) and not layer.frozen]
    seen = 0
    was_training = model.training
    model.eval()
    for layer in layers:
        layer.begin_calibration()
    try:
        with paddle.no_grad():
            for images in batches:
                model(images)
                seen += 1
        if layers and not seen:
            raise ValueError("calibrate_bn got no calibration batches: the BN statistics would silently stay "
                             "the running averages (set eval.calib_images >= 1)")
    finally:
        for layer in layers:
            layer.end_calibration()
        if was_training:
            model.train()


def _calibrated_layers(model: paddle.nn.Layer) -> list:
    root = model.active_network() if hasattr(model, "active_network") else model
    return [layer for layer in root.sublayers(include_self=True) if isinstance(layer, SuperBN2D) and not layer.frozen]


def bn_statistics(model: paddle.nn.Layer) -> dict:
    """A copy of the running statistics of every non-frozen :class:`SuperBN2D` of ``model`` (all copies and
    encoders), keyed by layer name: where :func:`momentum_calibrate_bn` starts each arch from."""
    return {name: (layer._mean.numpy().copy(), layer._variance.numpy().copy())
            for name, layer in model.named_sublayers(include_self=True) if isinstance(layer, SuperBN2D)}


def momentum_calibrate_bn(model: paddle.nn.Layer, batches: Iterable, start: dict) -> None:
    """The 2022 runner-up's scoring calibration (trap T2): BN statistics reset to ``start`` (the trained
    supernet's, from :func:`bn_statistics`), then training-mode forwards without gradient, each moving the
    active slice towards the batch statistics with the layer's momentum (0.9: ``new = 0.9 old + 0.1 batch``).

    The released code did not reset between archs, so each arch kept ~0.9^50 of the previous one's
    statistics; starting every arch from the trained ones keeps that weight but makes a score independent
    of which arch was scored before (resumable, shardable). Frozen layers are left alone.

    Example:
        >>> start = bn_statistics(model)                            # doctest: +SKIP
        >>> model.set_active(code)                                  # doctest: +SKIP
        >>> momentum_calibrate_bn(model, calib_batches, start)      # doctest: +SKIP
    """
    with paddle.no_grad():
        for name, layer in model.named_sublayers(include_self=True):
            if name in start and isinstance(layer, SuperBN2D) and not layer.frozen:
                layer._mean.set_value(start[name][0])
                layer._variance.set_value(start[name][1])
    was_training = model.training
    model.train()
    try:
        with paddle.no_grad():
            for images in batches:
                model(images)
    finally:
        if not was_training:
            model.eval()
