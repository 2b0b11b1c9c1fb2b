"""PaddleSlim's SuperConv2D with optional weight branches (progressive splitting).

Branch 0 is the layer's own ``weight`` and runs through PaddleSlim's forward;
branches 1.. are extra copies chosen by the layer's arch option.

Example:
    >>> conv = BranchedSuperConv2D(16, 16, 3, groups=[[12, 16], [4, 8]])  # doctest: +SKIP
    >>> y = conv(x, channel=8, option=8)   # branch 1, leading 8 output channels  # doctest: +SKIP
"""
from __future__ import annotations

import paddle.nn.functional as F
from paddleslim.nas.ofa.layers import SuperConv2D

from .branches import branch_layout, copies_of


class BranchedSuperConv2D(SuperConv2D):
    """No-bias conv with elastic output width and one weight copy per option group."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: list[list[int]] | None = None,
                 separate_teacher: bool = False):
        super().__init__(cin, cout, kernel, candidate_config={}, stride=stride, padding=kernel // 2, bias_attr=False)
        self.option_groups, self.branch_of, extra = branch_layout(groups, separate_teacher)
        self.extra_weights = copies_of(self, self.weight, extra)

    def branch_weight(self, option: int | None):
        branch = self.branch_of.get(option, 0)
        return self.weight if branch == 0 else self.extra_weights[branch - 1]

    def forward(self, input, channel=None, option=None):
        branch = self.branch_of.get(option, 0)
        if branch == 0:
            return super().forward(input, channel=channel)
        weight = self.extra_weights[branch - 1][: channel or self._out_channels, : int(input.shape[1])]
        return F.conv2d(input, weight, stride=self._stride, padding=self._padding, dilation=self._dilation)
