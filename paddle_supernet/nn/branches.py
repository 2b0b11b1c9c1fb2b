"""Option groups for progressive weight splitting (2021 winner, stages 2 and 3).

A searchable layer's options are partitioned into groups; each group is served
by its own weight copy (branch). Branch 0 always serves the group holding the
layer's largest option, so the largest arch (the teacher) keeps the original
weights. A partition is given per layer by a scheme:

- ``none``: one group (full weight sharing, stage 1);
- ``halves``: two contiguous groups, e.g. [4, 8] and [12, 16] (the paper's stage 2);
- ``chunks:N``: N contiguous groups of near-equal size (the released code used up to 4);
- ``per_option``: one group per option (stage 3);
- ``released``: the released stage-2 model's groups: option ``o`` of a layer whose
  largest option is ``M`` goes to group ``(m(o) - 1) // (M / 4)``, ``m`` being the
  released options enhancement (4 -> 5, 8 -> 9); e.g. {4}, {8, 12}, {16} for 16 and
  {4}, {8, 12, 16}, {20, 24}, {28, 32} for 32;
- an explicit list of lists that partitions the options exactly.

The classifier (input width = field 18) splits only when ``model.branches`` names it:
``{default: released, head: released}``.

Example:
    >>> partition([4, 8, 12, 16], "halves")
    [[12, 16], [4, 8]]
    >>> partition([4, 8, 12, 16], [[4], [8, 12], [16]])
    [[16], [4], [8, 12]]
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from ..errors import InputError

#: the options enhancement the released 2021 stage-2/3 models always applied
RELEASED_OE = {4: 5, 8: 9}
#: the ``model.branches`` key of the classifier (split by its input width, field 18)
HEAD_KEY = "head"


def partition(options: Sequence[int], scheme) -> list[list[int]]:
    """Groups of ``options`` under ``scheme``, the group with the largest option first."""
    options = sorted(options)
    if scheme in (None, "none"):
        groups = [options]
    elif scheme == "per_option":
        groups = [[o] for o in options]
    elif scheme == "released":
        width = max(options) // 4
        by_group: dict[int, list[int]] = {}
        for option in options:
            by_group.setdefault((RELEASED_OE.get(option, option) - 1) // width, []).append(option)
        groups = list(by_group.values())
    elif scheme == "halves":
        groups = _chunks(options, 2)
    elif isinstance(scheme, str) and scheme.startswith("chunks:"):
        try:
            n = int(scheme.split(":", 1)[1])
        except ValueError:
            raise InputError(f"bad branch scheme {scheme!r}; use chunks:N", key="model.branches") from None
        if not 1 <= n <= len(options):
            raise InputError(f"{scheme}: N must be in 1..{len(options)}", key="model.branches")
        groups = _chunks(options, n)
    elif isinstance(scheme, (list, tuple)):
        groups = [sorted(int(o) for o in group) for group in scheme]
        flat = sorted(o for group in groups for o in group)
        if flat != options or any(not group for group in groups):
            raise InputError(f"groups {scheme} do not partition the options {options}", key="model.branches")
    else:
        raise InputError(f"unknown branch scheme {scheme!r}; use none, halves, chunks:N, per_option or a list of groups",
                         key="model.branches")
    top = max(options)
    return sorted(groups, key=lambda group: (top not in group, group[0]))


def _chunks(options: list[int], n: int) -> list[list[int]]:
    return [list(map(int, chunk)) for chunk in np.array_split(np.array(options), n)]


def scheme_for(branches, field):
    """The scheme of one field from ``model.branches``: a scheme for all, or ``{field: scheme, default: scheme}``.

    ``field`` ``"head"`` is the classifier: it splits only when the mapping names it.
    """
    if field == HEAD_KEY:
        return branches.get(HEAD_KEY, "none") if isinstance(branches, Mapping) else "none"
    if isinstance(branches, Mapping):
        for key in (field, str(field), "default"):
            if key in branches:
                return branches[key]
        return "none"
    return branches


def branch_of(groups: list[list[int]]) -> dict[int, int]:
    """option -> branch index."""
    return {option: b for b, group in enumerate(groups) for option in group}


def branch_layout(groups: list[list[int]] | None, separate_teacher: bool = False):
    """``(option_groups, option -> branch, extra copies)`` of a branched layer.

    Shared teacher (default): branch 0, the layer's own weight, serves the group holding the
    largest option (and the teacher). Separate teacher (the released stages 2-3): branch 0
    serves only the teacher (option ``None``) and group ``b`` gets branch ``b + 1``.

    >>> branch_layout([[16], [4, 8, 12]], separate_teacher=True)
    ([[16], [4, 8, 12]], {16: 1, 4: 2, 8: 2, 12: 2}, 2)
    >>> branch_layout([[4, 8]])
    ([], {}, 0)
    """
    groups = list(groups or [])
    if len(groups) <= 1 and not separate_teacher:
        return [], {}, 0
    offset = int(bool(separate_teacher))
    return groups, {o: b + offset for b, group in enumerate(groups) for o in group}, len(groups) - 1 + offset


def copies_of(layer, tensor, count: int, is_bias: bool = False):
    """A ParameterList of ``count`` trainable copies of ``tensor`` created on ``layer``."""
    import paddle

    init = paddle.nn.initializer.Assign(tensor.numpy())
    return paddle.nn.ParameterList([layer.create_parameter(tensor.shape, is_bias=is_bias, default_initializer=init)
                                    for _ in range(count)])


def refinement_sources(old_groups: list[list[int]], new_groups: list[list[int]]) -> list[int]:
    """For each new branch, the old branch it starts as a copy of; the new partition must refine the old."""
    old = branch_of(old_groups)
    sources = []
    for group in new_groups:
        parents = {old[o] for o in group}
        if len(parents) != 1:
            raise InputError(f"new group {group} spans several old branches {sorted(parents)}; a split stage must "
                             "refine the previous stage's groups", key="model.branches")
        sources.append(parents.pop())
    return sources


class AffineBranches:
    """Mixin for a layer with ``weight`` and ``bias``: one copy of both per option group
    (see :func:`branch_layout`); call :meth:`init_branches` at the end of ``__init__``."""

    def init_branches(self, groups: list[list[int]] | None, separate_teacher: bool = False) -> None:
        self.option_groups, self.branch_of, extra = branch_layout(groups, separate_teacher)
        self.extra_weights = copies_of(self, self.weight, extra)
        self.extra_biases = copies_of(self, self.bias, extra, is_bias=True)

    def branch_affine(self, option: int | None):
        """(weight, bias) of the branch serving ``option`` (``None``: the teacher's, branch 0)."""
        branch = self.branch_of.get(option, 0)
        if branch == 0:
            return self.weight, self.bias
        return self.extra_weights[branch - 1], self.extra_biases[branch - 1]
