"""ResNet48 for the 2022 space: the elastic depth + width supernet and the stand-alone network.

Both networks use the official module tree, so their state dicts carry the
official key names (``blocks.0.conv.weight``, ``blocks.6.downsample.0.weight``,
``blocks.24.fc.weight`` [in, out], ...): ``blocks.0`` is the stem, ``blocks.1``
to ``blocks.23`` the BasicBlocks of stages 1-4 (5, 5, 8, 5 blocks; stride on
conv1; a 1x1 conv + BN ``downsample`` at stage transitions) and ``blocks.24``
the head. The supernet is built from PaddleSlim's ``SuperConv2D`` /
``SuperLinear`` and :class:`~paddle_supernet.nn.batchnorm.SuperBN2D`: each
stage runs its first ``d`` blocks, each conv its leading channels.

Options (both networks):
- ``small_input``: a 3x3 stride-1 stem without max-pool (small images);
- ``width_scale``: every width times this (the make_divisible divisor scaled
  alike, see :func:`~paddle_supernet.spaces.cvpr22_resnet48.width_of`);
- supernet only: ``distribution`` ``test`` (tied stage outputs; downsample at
  stage transitions, the official supernet) or ``free`` (a downsample in every
  block, used where the stand-alone rule asks: stride 2 or in != out);
  ``bn_stats`` ``batch`` (correct: batch statistics in training, recalibrated
  per arch) or ``frozen`` (the statistics loaded with the pretrained weights,
  sliced to the active width, in training and scoring alike: what the official
  baseline and the 2022 winner trained and scored with, see trap T1).

Example:
    >>> net = ResNet48Supernet(num_classes=10, small_input=True, width_scale=0.125)  # doctest: +SKIP
    >>> net.set_active(code); logits = net(images)                                   # doctest: +SKIP
    >>> plain = net.export(code)          # StandaloneResNet48, same logits          # doctest: +SKIP
"""
from __future__ import annotations

import paddle
import paddle.nn as nn
from paddleslim.nas.ofa.layers import SuperLinear

from ..errors import InputError
from ..spaces.cvpr22_resnet48 import (BASE_WIDTHS, MAX_DEPTHS, STAGE_STRIDES, STEM_BASE, Cvpr22ResNet48,
                                      check_width_scale, width_of)
from .batchnorm import SuperBN2D
from .conv import BranchedSuperConv2D

DISTRIBUTIONS = ("test", "tied", "free")
BN_STATS = ("batch", "frozen")
#: index in ``blocks`` of each stage's first block; the head is ``blocks.24``
STAGE_FIRST_BLOCK = tuple(1 + sum(MAX_DEPTHS[:s]) for s in range(4))
HEAD_INDEX = 1 + sum(MAX_DEPTHS)


def _check(name: str, value, allowed) -> None:
    if value not in allowed:
        raise InputError(f"must be one of {', '.join(allowed)}, got {value!r}", key=f"model.{name}")


def _max_width(base: int, width_scale: float) -> int:
    return width_of(base, 1, width_scale)


def _stem_layers(in_channels: int, width: int, small_input: bool):
    kernel, stride = (3, 1) if small_input else (7, 2)
    return kernel, stride, (nn.Identity() if small_input else nn.MaxPool2D(3, stride=2, padding=1))


# ---- the supernet -----------------------------------------------------------------------------
class SuperStem(nn.Layer):
    def __init__(self, in_channels: int, width: int, small_input: bool, frozen: bool):
        super().__init__()
        kernel, stride, pool = _stem_layers(in_channels, width, small_input)
        self.conv = BranchedSuperConv2D(in_channels, width, kernel, stride)
        self.bn = SuperBN2D(width, frozen=frozen)
        self.relu = nn.ReLU()
        self.maxpool = pool

    def forward(self, x, width: int):
        return self.maxpool(self.relu(self.bn(self.conv(x, channel=width))))


class SuperBasicBlock(nn.Layer):
    """A BasicBlock whose widths come from the forward call; ``downsample`` only where built."""

    def __init__(self, cin: int, width: int, stride: int, with_downsample: bool, frozen: bool):
        super().__init__()
        self.stride = stride
        self.conv1 = BranchedSuperConv2D(cin, width, 3, stride)
        self.bn1 = SuperBN2D(width, frozen=frozen)
        self.relu = nn.ReLU()
        self.conv2 = BranchedSuperConv2D(width, width, 3, 1)
        self.bn2 = SuperBN2D(width, frozen=frozen)
        self.downsample = nn.LayerList([BranchedSuperConv2D(cin, width, 1, stride),
                                        SuperBN2D(width, frozen=frozen)]) if with_downsample else None

    def forward(self, x, mid: int, cout: int):
        h = self.relu(self.bn1(self.conv1(x, channel=mid)))
        h = self.bn2(self.conv2(h, channel=cout))
        if self.stride != 1 or int(x.shape[1]) != cout:
            if self.downsample is None:
                raise InputError(f"a block with {int(x.shape[1])} input and {cout} output channels needs a projection "
                                 "shortcut, which the test-distribution supernet does not have; build it with "
                                 "model.distribution: free", key="model.distribution")
            x = self.downsample[1](self.downsample[0](x, channel=cout))
        return self.relu(h + x)


class SuperHead(nn.Layer):
    def __init__(self, width: int, num_classes: int):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2D(1)
        self.fc = SuperLinear(width, num_classes, candidate_config={})

    def forward(self, x):
        return self.fc(paddle.flatten(self.avgpool(x), 1))


class ResNet48Supernet(nn.Layer):
    """Weight-sharing ResNet48 over the ``cvpr22_resnet48`` space (see the module docstring)."""

    space_name = "cvpr22_resnet48"

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
                 width_scale: float = 1.0, distribution: str = "test", bn_stats: str = "batch"):
        super().__init__()
        _check("distribution", distribution, DISTRIBUTIONS)
        _check("bn_stats", bn_stats, BN_STATS)
        self.width_scale = check_width_scale(width_scale)
        self.num_classes, self.in_channels, self.small_input = num_classes, in_channels, bool(small_input)
        self.distribution, self.bn_stats = distribution, bn_stats
        self.space = Cvpr22ResNet48(num_classes=num_classes, in_channels=in_channels)
        frozen = bn_stats == "frozen"
        stem = _max_width(STEM_BASE, self.width_scale)
        layers = [SuperStem(in_channels, stem, self.small_input, frozen)]
        cin = stem
        for s, depth in enumerate(MAX_DEPTHS):
            width = _max_width(BASE_WIDTHS[s], self.width_scale)
            for j in range(depth):
                stride = STAGE_STRIDES[s] if j == 0 else 1
                needs = distribution == "free" or stride != 1 or cin != width
                layers.append(SuperBasicBlock(cin, width, stride, needs, frozen))
                cin = width
        layers.append(SuperHead(cin, num_classes))
        self.blocks = nn.LayerList(layers)
        self.set_active(self.space.largest())

    @property
    def active_code(self) -> str:
        return self._active_code

    def set_active(self, code: str, teacher: bool = False) -> None:
        """Select depths and widths from a 52-digit ``code`` (validated; :class:`InputError` if outside the space).
        ``teacher`` changes nothing here (one weight per layer)."""
        if not isinstance(code, str) or len(code) != 52:
            raise InputError(f"arch code {code!r} is not a 52-digit cvpr22_resnet48 code "
                             f"(a {len(code.split('-')) if isinstance(code, str) else '?'}-field 2021 code?)")
        arch = self.space.decode(code)
        if self.distribution != "free" and not self.space.in_distribution(code, self.distribution):
            raise InputError(f"arch code {code} is outside the {self.distribution} distribution (untied stage outputs"
                             f"{' or codes beyond a stage range' if self.distribution == 'test' else ''}); this supernet "
                             f"was built with model.distribution: {self.distribution}")
        plan = []
        for b in arch.blocks(self.width_scale):
            plan.append((STAGE_FIRST_BLOCK[b.stage] + b.index, b.mid, b.cout))
        self._stem_width = arch.stem_channels(self.width_scale)
        self._plan = plan
        self._active_code = code

    def forward(self, x):
        return self.blocks[HEAD_INDEX](self._trunk(x))

    def _trunk(self, x):
        x = self.blocks[0](x, self._stem_width)
        for index, mid, cout in self._plan:
            x = self.blocks[index](x, mid, cout)
        return x

    def features(self, x):
        """The active arch's pooled features before the classifier, ``[N, last width]``."""
        return paddle.flatten(self.blocks[HEAD_INDEX].avgpool(self._trunk(x)), 1)

    @property
    def feature_width(self) -> int:
        """Width of :meth:`features` for the largest arch."""
        return int(self.blocks[HEAD_INDEX].fc.weight.shape[0])

    def export(self, code: str | None = None) -> "StandaloneResNet48":
        """A plain network of ``code`` (default: the active arch) holding the inherited weights."""
        code = self._active_code if code is None else code
        self.space.decode(code)
        net = StandaloneResNet48(code, num_classes=self.num_classes, in_channels=self.in_channels,
                                 small_input=self.small_input, width_scale=self.width_scale)
        previous = self._active_code
        self.set_active(code)
        sources = [0] + [index for index, _, _ in self._plan] + [HEAD_INDEX]
        self.set_active(previous)
        with paddle.no_grad():
            for plain, index in zip(net.blocks, sources):
                _copy_sliced(plain, self.blocks[index])
        net.train() if self.training else net.eval()  # Paddle 2.6: train() takes no mode
        return net


def _copy_sliced(dst: nn.Layer, src: nn.Layer) -> None:
    """Copy ``src``'s weights into the smaller ``dst`` (same sub-layer names), leading slices."""
    source = src.state_dict()
    for name, tensor in dst.state_dict().items():
        value = source[name]
        shape = list(tensor.shape)
        index = tuple(slice(0, n) for n in shape)
        tensor.set_value(value[index].numpy() if shape != list(value.shape) else value.numpy())


# ---- the stand-alone network ------------------------------------------------------------------
class StemBlock(nn.Layer):
    def __init__(self, in_channels: int, width: int, small_input: bool):
        super().__init__()
        kernel, stride, pool = _stem_layers(in_channels, width, small_input)
        self.conv = nn.Conv2D(in_channels, width, kernel, stride=stride, padding=kernel // 2, bias_attr=False)
        self.bn = nn.BatchNorm2D(width)
        self.relu = nn.ReLU()
        self.maxpool = pool

    def forward(self, x):
        return self.maxpool(self.relu(self.bn(self.conv(x))))


class BasicBlock(nn.Layer):
    def __init__(self, cin: int, mid: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2D(cin, mid, 3, stride=stride, padding=1, bias_attr=False)
        self.bn1 = nn.BatchNorm2D(mid)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2D(mid, cout, 3, padding=1, bias_attr=False)
        self.bn2 = nn.BatchNorm2D(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2D(cin, cout, 1, stride=stride, bias_attr=False), nn.BatchNorm2D(cout))

    def forward(self, x):
        h = self.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return self.relu(h + (x if self.downsample is None else self.downsample(x)))


class HeadBlock(nn.Layer):
    def __init__(self, width: int, num_classes: int):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2D(1)
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.fc(paddle.flatten(self.avgpool(x), 1))


class StandaloneResNet48(nn.Layer):
    """The official stand-alone ResNet48 of one arch (the ground-truth network, and the teacher).

    Example:
        >>> from paddle_supernet.spaces import get_space
        >>> net = StandaloneResNet48(get_space("cvpr22_resnet48").largest())  # doctest: +SKIP
        >>> sorted(net.state_dict())[0]                                        # doctest: +SKIP
        'blocks.0.bn._mean'
    """

    def __init__(self, code: str, num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
                 width_scale: float = 1.0):
        super().__init__()
        width_scale = check_width_scale(width_scale)
        arch = Cvpr22ResNet48(num_classes=num_classes, in_channels=in_channels).decode(code)
        self.code = code
        layers = [StemBlock(in_channels, arch.stem_channels(width_scale), bool(small_input))]
        blocks = arch.blocks(width_scale)
        layers += [BasicBlock(b.cin, b.mid, b.cout, b.stride) for b in blocks]
        layers.append(HeadBlock(blocks[-1].cout, num_classes))
        self.blocks = nn.LayerList(layers)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return x

    def units(self) -> list:
        """The layers whose composition is :meth:`forward` (stem, blocks, head): what latency tables time."""
        return list(self.blocks)
