"""Where a distillation target comes from: one mechanism for both tracks.

- :class:`LargestArchTeacher` (``teacher: largest``): the supernet's own largest
  arch, run in place each step; optionally trained with CE on the batch first
  (2021 Algorithm 1).
- :class:`ExternalTeacher` (``teacher: external``): a frozen full network, the
  official ResNet48 loaded from ``teacher_weights`` (a state dict in the official
  layout, or a paddle_supernet checkpoint whose largest arch is exported), in
  eval mode, never differentiated (2022 baseline).

Either way the teacher's forward runs once per step, and its logits are
detached before the students use them.

Example:
    >>> teacher = build_teacher("largest", None, space, run_cfg, num_classes=10)  # doctest: +SKIP
    >>> logits, scalars = teacher.logits(model, images, labels)                   # doctest: +SKIP
"""
from __future__ import annotations

import paddle

from ..errors import InputError
from .base import accuracy, cross_entropy

TEACHERS = ("largest", "external")


class LargestArchTeacher:
    """The supernet's largest arch; ``train_ce``: its CE on the batch is back-propagated first."""

    def __init__(self, code: str, train_ce: bool = True):
        self.code, self.train_ce = code, bool(train_ce)

    def logits(self, model, images, labels):
        model.set_active(self.code, teacher=True)
        if not self.train_ce:
            with paddle.no_grad():
                logits = model(images)
            return logits.detach(), {"loss/teacher_ce": float(cross_entropy(logits, labels))}
        logits = model(images)
        loss = cross_entropy(logits, labels)
        loss.backward()
        logits = logits.detach()
        return logits, {"loss/teacher_ce": float(loss), "acc/teacher_train": accuracy(logits, labels)}


class ExternalTeacher:
    """A frozen network outside the supernet (no gradient, eval-mode BN)."""

    def __init__(self, network: paddle.nn.Layer):
        self.network = network
        network.eval()
        for p in network.parameters():
            p.stop_gradient = True

    def logits(self, model, images, labels):
        with paddle.no_grad():
            logits = self.network(images)
        return logits.detach(), {"acc/teacher_train": accuracy(logits, labels)}


def external_network(weights: str, run_cfg: dict, space, num_classes: int) -> paddle.nn.Layer:
    """The full stand-alone network of ``run_cfg``'s model options holding ``weights`` (a state dict
    in the official layout, or a paddle_supernet checkpoint whose largest arch is exported)."""
    from ..models import build_standalone
    from ..nn.official_weights import exported_full_network, load_official, read_weights

    if not weights:
        raise InputError("teacher: external needs strategy.teacher_weights (a resnet48.pdparams-layout state dict "
                         "or a paddle_supernet checkpoint)", key="strategy.teacher_weights")
    kind, state = read_weights(weights)
    if kind != "official":  # a checkpoint: its own largest arch as its supernet exports it (shortcuts, activations)
        return exported_full_network(state, weights, space.name)
    network = build_standalone(run_cfg, space.largest(), num_classes, run_cfg["seed"])
    load_official(network, state, str(weights))
    return network


def build_teacher(source: str, weights: str | None, space, run_cfg: dict | None, num_classes: int | None,
                  train_ce: bool = True):
    """A teacher by ``source`` (``largest`` or ``external``); see the module docstring."""
    if source == "largest":
        return LargestArchTeacher(space.largest(), train_ce)
    if source == "external":
        if run_cfg is None:
            raise InputError("an external teacher needs the run's config", key="strategy.teacher")
        return ExternalTeacher(external_network(weights, run_cfg, space, num_classes))
    raise InputError(f"must be one of {', '.join(TEACHERS)}, got {source!r}", key="strategy.teacher")
