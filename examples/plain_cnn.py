"""A search space of your own: a plain CNN with a width choice for each of its six convolutions.

This module registers the space ``plain_cnn``, its supernet and its stand-alone network; a config
lists the module in ``custom_imports`` and names the space (``configs/examples/plain_cnn.yaml``),
and every sampler, strategy, evaluator backend and report then works on it as on the challenge
spaces. The space is pure Python (codes, sampling, choices, counts); the networks import Paddle
only when built, so a config error is still reported before Paddle loads.

Code: six widths joined by ``-``, one per 3x3 convolution (conv-BN-ReLU), strides 1, 1, 2, 1, 2, 1,
then global average pooling and a linear classifier.

Example:
    >>> from paddle_supernet.spaces import get_space
    >>> import examples.plain_cnn  # noqa: F401  (registers plain_cnn)
    >>> space = get_space("plain_cnn", num_classes=10, image_size=32)
    >>> space.largest()
    '8-8-16-16-32-32'
    >>> space.params(space.smallest())
    4854
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np

from paddle_supernet.errors import InputError
from paddle_supernet.models import STANDALONE, SUPERNETS
from paddle_supernet.spaces import register_space
from paddle_supernet.spaces.base import Choice, LayerSpec, SearchSpace, describe_allowed

#: the options of each convolution's width, its stride, and its stage as samplers that work per
#: stage see it (CCFS, progressive shrinking): one per resolution, the first convolution (the stem)
#: in stage 0, as the challenge spaces count it
WIDTHS = ((4, 8), (4, 8), (8, 16), (8, 16), (16, 32), (16, 32))
STRIDES = (1, 1, 2, 1, 2, 1)
STAGES = (0, 0, 1, 1, 2, 2)
_TOKEN = re.compile(r"[1-9][0-9]*\Z")


@dataclass(frozen=True)
class PlainArch:
    """A decoded arch: the width of each convolution."""

    widths: tuple[int, ...]


@register_space("plain_cnn")
class PlainCNN(SearchSpace):
    """Six conv-BN-ReLU layers of searchable width; ``num_classes``/``image_size``/``in_channels``
    set the network that is counted."""

    distributions = ("uniform",)
    num_stages = 3

    def __init__(self, num_classes: int = 10, image_size: int = 32, in_channels: int = 3):
        self.num_classes, self.image_size, self.in_channels = num_classes, image_size, in_channels

    def decode(self, code: str) -> PlainArch:
        if not isinstance(code, str):
            raise InputError(f"arch code must be a string, got {type(code).__name__} {code!r}")
        tokens = code.split("-")
        if len(tokens) != len(WIDTHS):
            raise InputError(f"arch code {code!r} has {len(tokens)} fields, expected {len(WIDTHS)} widths joined by '-'")
        for i, (token, allowed) in enumerate(zip(tokens, WIDTHS)):
            if not _TOKEN.match(token) or int(token) not in allowed:
                raise InputError(f"arch code {code!r}: field {i} is {token!r}, allowed {describe_allowed(allowed)}")
        return PlainArch(tuple(int(t) for t in tokens))

    def encode(self, arch: PlainArch) -> str:
        return "-".join(str(w) for w in arch.widths)

    def sample_code(self, rng: np.random.Generator, distribution: str | None = None) -> str:
        self._check_distribution(distribution)
        return "-".join(str(options[rng.integers(len(options))]) for options in WIDTHS)

    def largest(self, distribution: str | None = None) -> str:
        self._check_distribution(distribution)
        return "-".join(str(options[-1]) for options in WIDTHS)

    def smallest(self, distribution: str | None = None) -> str:
        self._check_distribution(distribution)
        return "-".join(str(options[0]) for options in WIDTHS)

    # the decisions samplers see (fair, CCFS, progressive shrinking): one width choice per convolution
    def choices(self, distribution: str | None = None) -> list[Choice]:
        self._check_distribution(distribution)
        return [Choice(f"c{i}", "width", stage, options) for i, (options, stage) in enumerate(zip(WIDTHS, STAGES))]

    def compose(self, values: dict[str, int], distribution: str | None = None) -> str:
        code = "-".join(str(values[f"c{i}"]) for i in range(len(WIDTHS)))
        self.validate(code)
        return code

    def choice_values(self, code: str, distribution: str | None = None) -> dict[str, int]:
        return {f"c{i}": w for i, w in enumerate(self.decode(code).widths)}

    def layer_specs(self, code: str, **variant) -> list[LayerSpec]:
        """The stand-alone network's layers, from which ``params`` and ``macs`` follow. Their names
        place them in the layer groups samplers weigh (``stem.*`` group 0, ``stages.<s>.*`` group
        s + 1, as :meth:`SearchSpace.layer_group` reads them; CCFS sums parameters per group)."""
        hw, cin, layers = self.image_size, self.in_channels, []
        for i, (width, stride, stage) in enumerate(zip(self.decode(code).widths, STRIDES, STAGES)):
            hw = (hw + 2 - 3) // stride + 1
            name = "stem" if i == 0 else f"stages.{stage}.{i}"
            layers += [LayerSpec("conv", f"{name}.conv", cin, width, 3, stride, hw), LayerSpec("bn", f"{name}.bn", width, width)]
            cin = width
        return layers + [LayerSpec("linear", "head", cin, self.num_classes)]


@functools.lru_cache(maxsize=None)
def _networks():
    """The Paddle layers, defined when first built (the space above needs no Paddle)."""
    import paddle
    from paddle import nn

    from paddle_supernet.nn.batchnorm import SuperBN2D
    from paddle_supernet.nn.conv import BranchedSuperConv2D
    from paddle_supernet.nn.linear import BranchedSuperLinear

    class StandalonePlainCNN(nn.Layer):
        """The plain network of one arch. Each BN is defined right after its convolution: the
        ``shared_inference`` backend folds a BatchNorm2D into the Conv2D defined just before it."""

        def __init__(self, code: str, num_classes: int, in_channels: int = 3):
            super().__init__()
            widths = PlainCNN().decode(code).widths
            cins = (in_channels, *widths[:-1])
            self.layers = nn.LayerList([nn.Sequential(nn.Conv2D(c, w, 3, s, padding=1, bias_attr=False), nn.BatchNorm2D(w))
                                        for c, w, s in zip(cins, widths, STRIDES)])
            self.head = nn.Linear(widths[-1], num_classes)

        def forward(self, x):
            for conv_bn in self.layers:
                x = paddle.nn.functional.relu(conv_bn(x))
            return self.head(paddle.flatten(paddle.nn.functional.adaptive_avg_pool2d(x, 1), 1))

    class PlainCNNSupernet(nn.Layer):
        """Weight-sharing supernet of ``plain_cnn``: each layer built at its widest option, an arch
        uses the leading channels (PaddleSlim's super layers; ``SuperBN2D`` for exact calibration)."""

        def __init__(self, num_classes: int, in_channels: int = 3):
            super().__init__()
            self.space = PlainCNN(num_classes=num_classes, in_channels=in_channels)
            self.num_classes, self.in_channels = num_classes, in_channels
            tops = [options[-1] for options in WIDTHS]
            self.convs = nn.LayerList([BranchedSuperConv2D(c, w, 3, s)
                                       for c, w, s in zip([in_channels, *tops[:-1]], tops, STRIDES)])
            self.bns = nn.LayerList([SuperBN2D(w) for w in tops])
            self.head = BranchedSuperLinear(tops[-1], num_classes)
            self.set_active(self.space.largest())

        @property
        def active_code(self) -> str:
            return self._active_code

        def set_active(self, code: str, teacher: bool = False) -> None:
            """Use ``code``'s widths from now on (``teacher``: no separate teacher weights here)."""
            self._widths = self.space.decode(code).widths
            self._active_code = code

        def features(self, x):
            """The active arch's pooled features before the classifier (what MoCo's neck takes)."""
            for conv, bn, width in zip(self.convs, self.bns, self._widths):
                x = paddle.nn.functional.relu(bn(conv(x, channel=width)))
            return paddle.flatten(paddle.nn.functional.adaptive_avg_pool2d(x, 1), 1)

        @property
        def feature_width(self) -> int:
            """Width of :meth:`features` for the largest arch."""
            return int(self.head.weight.shape[0])

        def forward(self, x):
            return self.head(self.features(x))

        def export(self, code: str | None = None) -> StandalonePlainCNN:
            """The plain network of ``code`` (default: the active arch) with the inherited weights."""
            code = self._active_code if code is None else code
            net = StandalonePlainCNN(code, self.num_classes, self.in_channels)
            with paddle.no_grad():
                for (conv, bn), super_conv, super_bn in zip(net.layers, self.convs, self.bns):
                    out_c, in_c = conv.weight.shape[:2]
                    conv.weight.set_value(super_conv.weight[:out_c, :in_c].numpy())
                    for name in ("weight", "bias", "_mean", "_variance"):
                        getattr(bn, name).set_value(getattr(super_bn, name)[:out_c].numpy())
                net.head.weight.set_value(self.head.weight[: net.head.weight.shape[0]].numpy())
                net.head.bias.set_value(self.head.bias.numpy())
            net.train() if self.training else net.eval()
            return net

    return PlainCNNSupernet, StandalonePlainCNN


@SUPERNETS.register("plain_cnn")
def build_supernet(model_cfg: dict, num_classes: int):
    """``fn(model config, classes)``: what ``paddle_supernet.models.build_supernet`` calls for this space."""
    return _networks()[0](num_classes)


@STANDALONE.register("plain_cnn")
def build_standalone(code: str, model_cfg: dict, num_classes: int):
    """``fn(code, model config, classes)``: the network that stand-alone (ground-truth) runs train."""
    return _networks()[1](code, num_classes)
