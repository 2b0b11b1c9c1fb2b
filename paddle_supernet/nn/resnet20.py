"""ResNet20 for the 2021 space: the weight-sharing supernet and the stand-alone network.

The supernet is built from PaddleSlim's ``SuperConv2D`` / ``SuperLinear`` and
:class:`~paddle_supernet.nn.batchnorm.SuperBN2D`; every layer's width is set
independently by the arch code (untied in/mid/out per block). ``export(code)``
returns a :class:`StandaloneResNet20` holding the inherited weights.

Options (both networks): ``shortcut`` ``official`` (1x1 projection on a stage's
first block or when in != out) or ``projection`` (every block, as the 2021
winners' supernets); ``width_map`` arch option -> built width (options
enhancement, e.g. ``{4: 5, 8: 9}``); ``activation`` after the residual add,
``relu`` or ``prelu`` (one slope per block, initial 0.25).

Example:
    >>> net = ResNet20Supernet(num_classes=10)          # doctest: +SKIP
    >>> net.set_active(code); logits = net(images)      # doctest: +SKIP
    >>> plain = net.export(code)                        # same logits, plain layers
"""
from __future__ import annotations

from typing import Mapping

import paddle
import paddle.nn as nn

from ..errors import InputError
from ..spaces.cvpr21_resnet20 import FIELD_CHOICES, SHORTCUT_POLICIES, Cvpr21ResNet20
from .batchnorm import SuperBN2D
from .branches import HEAD_KEY, branch_layout, partition, refinement_sources, scheme_for
from .conv import BranchedSuperConv2D
from .linear import BranchedSuperLinear

ACTIVATIONS = ("relu", "prelu")


def _check_options(shortcut: str, activation: str) -> None:
    if shortcut not in SHORTCUT_POLICIES:
        raise InputError(f"unknown shortcut policy {shortcut!r}; choose one of {', '.join(SHORTCUT_POLICIES)}")
    if activation not in ACTIVATIONS:
        raise InputError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")


def _block_activation(activation: str, prelu_init: float = 0.25) -> nn.Layer:
    return nn.PReLU(num_parameters=1, init=prelu_init) if activation == "prelu" else nn.ReLU()


class _BuiltWidths:
    """Arch option -> built channels (identity unless options enhancement maps it)."""

    def __init__(self, width_map: Mapping[int, int] | None):
        self.width_map = {int(k): int(v) for k, v in (width_map or {}).items()}

    def __call__(self, option: int) -> int:
        return self.width_map.get(option, option)

    def max_of(self, field: int) -> int:
        return max(self(option) for option in FIELD_CHOICES[field])


HEAD_FIELD = 18  # the classifier's input width


TEACHER_WEIGHTS = ("shared", "separate")


def field_groups(branches, field: int, key=None) -> list[list[int]]:
    """Option groups of arch field ``field`` under ``model.branches`` (one group: one shared weight);
    ``key`` is the branches key when it is not the field number (``"head"``: the classifier)."""
    return partition(FIELD_CHOICES[field], scheme_for(branches, field if key is None else key))


def _conv_bn(cin: int, cout: int, kernel: int, stride: int, field: int, branches, separate: bool):
    """A searchable conv and its BN, both serving arch field ``field``."""
    groups = field_groups(branches, field)
    conv = BranchedSuperConv2D(cin, cout, kernel, stride, groups, separate_teacher=separate)
    bn = SuperBN2D(cout, groups=groups, separate_teacher=separate)
    conv.field = bn.field = conv.branch_key = bn.branch_key = field
    return conv, bn


class SuperBlock(nn.Layer):
    """BasicBlock whose conv widths (and weight branches) come from the forward call."""

    def __init__(self, index: int, cin: int, mid: int, cout: int, stride: int, shortcut: str, activation: str,
                 branches="none", prelu_init: float = 0.25, separate: bool = False):
        super().__init__()
        self.index, self.stride, self.shortcut_policy = index, stride, shortcut
        self.first_of_stage = (index - 1) % 3 == 0
        mid_field, out_field = 2 * index - 1, 2 * index
        self.conv1, self.bn1 = _conv_bn(cin, mid, 3, stride, mid_field, branches, separate)
        self.conv2, self.bn2 = _conv_bn(mid, cout, 3, 1, out_field, branches, separate)
        self.shortcut_conv, self.shortcut_bn = _conv_bn(cin, cout, 1, stride, out_field, branches, separate)
        self.relu = nn.ReLU()
        self.act = _block_activation(activation, prelu_init)

    def uses_projection(self, cin: int, cout: int) -> bool:
        return self.shortcut_policy == "projection" or self.first_of_stage or cin != cout

    def forward(self, x, mid_option: int, mid: int, out_option: int, cout: int):
        h = self.relu(self.bn1(self.conv1(x, channel=mid, option=mid_option), option=mid_option))
        h = self.bn2(self.conv2(h, channel=cout, option=out_option), option=out_option)
        if self.uses_projection(int(x.shape[1]), cout):
            x = self.shortcut_bn(self.shortcut_conv(x, channel=cout, option=out_option), option=out_option)
        return self.act(h + x)


class ResNet20Supernet(nn.Layer):
    """Weight-sharing ResNet20 over the ``cvpr21_resnet20`` space."""

    space_name = "cvpr21_resnet20"

    def __init__(self, num_classes: int = 100, in_channels: int = 3, shortcut: str = "projection",
                 width_map: Mapping[int, int] | None = None, activation: str = "relu", branches="none",
                 prelu_init: float = 0.25, teacher_weights: str = "shared", freeze_teacher: bool = False):
        super().__init__()
        _check_options(shortcut, activation)
        if teacher_weights not in TEACHER_WEIGHTS:
            raise InputError(f"must be one of {', '.join(TEACHER_WEIGHTS)}, got {teacher_weights!r}",
                             key="model.teacher_weights")
        if freeze_teacher and teacher_weights != "separate":
            raise InputError("a frozen teacher needs its own weights (model.teacher_weights: separate); with shared "
                             "weights the students train the teacher's weights", key="model.freeze_teacher")
        self.teacher_weights, self.freeze_teacher = teacher_weights, bool(freeze_teacher)
        separate = teacher_weights == "separate"
        self.space = Cvpr21ResNet20(num_classes=num_classes, in_channels=in_channels)
        self.num_classes, self.in_channels = num_classes, in_channels
        self.shortcut, self.activation, self.branches = shortcut, activation, branches
        self.built = _BuiltWidths(width_map)
        top = self.built.max_of
        self.stem_conv, self.stem_bn = _conv_bn(in_channels, top(0), 3, 1, 0, branches, separate)
        self.relu = nn.ReLU()
        self.blocks = nn.LayerList([
            SuperBlock(k, top(2 * k - 2), top(2 * k - 1), top(2 * k), 2 if k in (4, 7) else 1, shortcut, activation,
                       branches, prelu_init, separate)
            for k in range(1, 10)
        ])
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.head = BranchedSuperLinear(top(HEAD_FIELD), num_classes, field_groups(branches, HEAD_FIELD, HEAD_KEY),
                                        separate_teacher=separate)
        self.head.field, self.head.branch_key = HEAD_FIELD, HEAD_KEY
        if self.freeze_teacher:  # the teacher's own weights: no gradient, no momentum or decay
            for layer in self._branched_layers():
                for p in (layer.weight, getattr(layer, "bias", None)):
                    if p is not None:
                        p.stop_gradient = True
        self._active = None
        self.set_active(self.space.largest())

    def _branched_layers(self):
        return [layer for layer in self.sublayers() if isinstance(layer, (BranchedSuperConv2D, SuperBN2D,
                                                                          BranchedSuperLinear))]

    @property
    def active_code(self) -> str:
        return self._active_code

    def set_active(self, code: str, teacher: bool = False) -> None:
        """Select every layer's width from ``code`` (validated; :class:`InputError` if outside the space).

        ``teacher``: run on the teacher's weights (branch 0 of every layer; with
        ``teacher_weights: separate`` those no student uses).
        """
        arch = self.space.decode(code)
        self._options = [None] * len(arch.fields) if teacher else arch.fields
        self._active = [self.built(c) for c in arch.fields]
        self._active_code = code

    def forward(self, x):
        return self.head(self.features(x), option=self._options[HEAD_FIELD])

    def features(self, x):
        """The active arch's pooled features before the classifier, ``[N, its last width]`` (MoCo's input)."""
        o, c = self._options, self._active
        x = self.relu(self.stem_bn(self.stem_conv(x, channel=c[0], option=o[0]), option=o[0]))
        for k, block in enumerate(self.blocks, start=1):
            x = block(x, o[2 * k - 1], c[2 * k - 1], o[2 * k], c[2 * k])
        return paddle.flatten(self.pool(x), 1)

    @property
    def feature_width(self) -> int:
        """Width of :meth:`features` for the largest arch."""
        return int(self.built.max_of(HEAD_FIELD))

    def load_stage(self, state: dict, previous_branches, previous_teacher_weights: str = "shared") -> None:
        """Load a previous stage's weights (saved with ``previous_branches`` and
        ``previous_teacher_weights``) into this model's branches.

        Each student branch starts as a copy of the previous stage's branch that served its
        options, and a separate teacher branch as a copy of the previous teacher's, so right
        after the split every subnet (and the teacher) computes exactly what it computed before.
        """
        from ..engine.checkpoint import check_state_matches

        old_separate = previous_teacher_weights == "separate"
        new_separate = self.teacher_weights == "separate"
        new_state = dict(state)
        for name, layer in self.named_sublayers():
            if not isinstance(layer, (BranchedSuperConv2D, SuperBN2D, BranchedSuperLinear)):
                continue
            old_groups = partition(FIELD_CHOICES[layer.field], scheme_for(previous_branches, layer.branch_key))
            new_groups = field_groups(self.branches, layer.field, layer.branch_key)
            old_layout, _, old_extra = branch_layout(old_groups, old_separate)
            new_layout = branch_layout(new_groups, new_separate)[0]

            def old_branch(group: int) -> int:
                return group + old_separate if old_layout else 0
            from_groups = [old_branch(g) for g in refinement_sources(old_groups, new_groups)]
            sources = ([0] if new_separate else []) + from_groups if new_layout else from_groups[:1]
            pairs = [("weight", "extra_weights")]
            if isinstance(layer, (SuperBN2D, BranchedSuperLinear)):
                pairs.append(("bias", "extra_biases"))
            for base, extra in pairs:
                key = lambda b: f"{name}.{base}" if b == 0 else f"{name}.{extra}.{b - 1}"  # noqa: E731
                copies = {b: state[key(src)] for b, src in enumerate(sources)}
                for b in range(1 + old_extra):
                    new_state.pop(key(b), None)
                new_state.update({key(b): value for b, value in copies.items()})
        check_state_matches(self, new_state)
        self.set_state_dict(new_state)

    def export(self, code: str | None = None) -> "StandaloneResNet20":
        """A plain network of ``code`` (default: the active arch) with the inherited weights."""
        code = self._active_code if code is None else code
        net = StandaloneResNet20(code, num_classes=self.num_classes, in_channels=self.in_channels,
                                 shortcut=self.shortcut, width_map=self.built.width_map, activation=self.activation)
        o = self.space.decode(code).fields
        with paddle.no_grad():
            _copy_conv(net.stem_conv, self.stem_conv, o[0])
            _copy_bn(net.stem_bn, self.stem_bn, o[0])
            for k, (plain, sup) in enumerate(zip(net.blocks, self.blocks), start=1):
                for conv, bn, option in (("conv1", "bn1", o[2 * k - 1]), ("conv2", "bn2", o[2 * k])):
                    _copy_conv(getattr(plain, conv), getattr(sup, conv), option)
                    _copy_bn(getattr(plain, bn), getattr(sup, bn), option)
                if plain.shortcut_conv is not None:
                    _copy_conv(plain.shortcut_conv, sup.shortcut_conv, o[2 * k])
                    _copy_bn(plain.shortcut_bn, sup.shortcut_bn, o[2 * k])
                if self.activation == "prelu":
                    plain.act.set_state_dict(sup.act.state_dict())
            weight, bias = self.head.branch_affine(o[HEAD_FIELD])
            net.head.weight.set_value(weight[: net.head.weight.shape[0]].numpy())
            net.head.bias.set_value(bias.numpy())
        net.train() if self.training else net.eval()  # Paddle 2.6: train() takes no mode
        return net


def _copy_conv(dst: nn.Conv2D, src: BranchedSuperConv2D, option: int) -> None:
    out_c, in_c = dst.weight.shape[:2]
    dst.weight.set_value(src.branch_weight(option)[:out_c, :in_c].numpy())


def _copy_bn(dst: nn.BatchNorm2D, src: SuperBN2D, option: int) -> None:
    c = dst.weight.shape[0]
    weight, bias = src.branch_affine(option)
    for target, value in ((dst.weight, weight), (dst.bias, bias), (dst._mean, src._mean), (dst._variance, src._variance)):
        target.set_value(value[:c].numpy())


class StandaloneBlock(nn.Layer):
    def __init__(self, cin: int, mid: int, cout: int, stride: int, projection: bool, activation: str):
        super().__init__()
        self.conv1 = nn.Conv2D(cin, mid, 3, stride=stride, padding=1, bias_attr=False)
        self.bn1 = nn.BatchNorm2D(mid)
        self.conv2 = nn.Conv2D(mid, cout, 3, padding=1, bias_attr=False)
        self.bn2 = nn.BatchNorm2D(cout)
        self.shortcut_conv = nn.Conv2D(cin, cout, 1, stride=stride, bias_attr=False) if projection else None
        self.shortcut_bn = nn.BatchNorm2D(cout) if projection else None
        self.relu = nn.ReLU()
        self.act = _block_activation(activation)

    def forward(self, x):
        h = self.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        if self.shortcut_conv is not None:
            x = self.shortcut_bn(self.shortcut_conv(x))
        return self.act(h + x)


class StandaloneResNet20(nn.Layer):
    """The plain ResNet20 of one arch (the ground-truth network with ``shortcut='official'``).

    Example:
        >>> net = StandaloneResNet20("16-" * 19 + "16", num_classes=10)  # doctest: +SKIP
    """

    def __init__(self, code: str, num_classes: int = 100, in_channels: int = 3, shortcut: str = "official",
                 width_map: Mapping[int, int] | None = None, activation: str = "relu"):
        super().__init__()
        _check_options(shortcut, activation)
        space = Cvpr21ResNet20(num_classes=num_classes, in_channels=in_channels)
        arch = space.decode(code)
        built = _BuiltWidths(width_map)
        self.code = code
        stem = built(arch.stem)
        self.stem_conv = nn.Conv2D(in_channels, stem, 3, padding=1, bias_attr=False)
        self.stem_bn = nn.BatchNorm2D(stem)
        self.relu = nn.ReLU()
        self.blocks = nn.LayerList([
            StandaloneBlock(built(b.cin), built(b.mid), built(b.cout), b.stride,
                            b.needs_projection(shortcut) or built(b.cin) != built(b.cout), activation)
            for b in arch.blocks
        ])
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.head = nn.Linear(built(arch.head_in), num_classes)

    def forward(self, x):
        x = self.relu(self.stem_bn(self.stem_conv(x)))
        for block in self.blocks:
            x = block(x)
        return self.head(paddle.flatten(self.pool(x), 1))

    def units(self) -> list:
        """The layers whose composition is :meth:`forward` (stem, blocks, head): what latency tables time."""
        return [nn.Sequential(self.stem_conv, self.stem_bn, self.relu), *self.blocks, _PoolHead(self.pool, self.head)]


class _PoolHead(nn.Layer):
    """Global pooling, flatten and the classifier: the last unit of :meth:`StandaloneResNet20.units`."""

    def __init__(self, pool, head):
        super().__init__()
        self.pool, self.head = pool, head

    def forward(self, x):
        return self.head(paddle.flatten(self.pool(x), 1))
