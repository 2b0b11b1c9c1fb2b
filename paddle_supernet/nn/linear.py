"""PaddleSlim's SuperLinear with optional weight branches (the 2021 released classifier split).

Branch 0 is the layer's own ``weight``/``bias`` and runs through PaddleSlim's
forward; branches 1.. are extra copies chosen by the arch option of the
classifier's input width.

Example:
    >>> fc = BranchedSuperLinear(64, 100, groups=[[52, 56, 60, 64], [4, 8, 12, 16]])  # doctest: +SKIP
    >>> y = fc(x, option=8)   # branch 1, the leading input features of x            # doctest: +SKIP
"""
from __future__ import annotations

import paddle.nn.functional as F
from paddleslim.nas.ofa.layers import SuperLinear

from .branches import AffineBranches


class BranchedSuperLinear(AffineBranches, SuperLinear):
    """Linear layer with elastic input width and one weight/bias copy per option group."""

    def __init__(self, cin: int, cout: int, groups: list[list[int]] | None = None, separate_teacher: bool = False):
        SuperLinear.__init__(self, cin, cout, candidate_config={})
        self.init_branches(groups, separate_teacher)

    def forward(self, input, option=None):
        if self.branch_of.get(option, 0) == 0:
            return super().forward(input)
        weight, bias = self.branch_affine(option)
        return F.linear(input, weight[: int(input.shape[-1])], bias)
