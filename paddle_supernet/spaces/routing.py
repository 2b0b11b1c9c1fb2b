"""Which copy of a few-shot supernet an arch belongs to: a routing table by choice values.

Sub-supernet enhancing (the 2022 runner-up's SSE) splits the supernet into
copies by the depths of stages 3 and 4. The table names the choices it keys
on (``by``) and, per copy, the value tuples routed to it; ``rest`` takes
every other tuple (or null: every tuple must be listed). ``optimize``: which
parameters a phase of one copy group trains: ``group`` (that copy's only) or
``all`` (every copy, as released: idle copies still get momentum and weight
decay on the zero gradients of copies trained before). Pure Python.

Example:
    >>> from paddle_supernet.spaces import get_space
    >>> route = CopyRouting.from_config(get_space("cvpr22_resnet48"),
    ...     {"by": ["d4"], "groups": [[[2]], [[5]], "rest"]})
    >>> route.copies, route.group_of(get_space("cvpr22_resnet48").largest())
    (3, 1)
"""
from __future__ import annotations

import itertools

from ..errors import InputError

KEY = "model.few_shot"


class CopyRouting:
    """Maps the values of the ``by`` choices of a code to a copy index; see the module docstring."""

    def __init__(self, space, by: list[str], table: dict[tuple, int], copies: int, distribution: str | None = None,
                 optimize: str = "group"):
        self.space, self.by, self.table, self.copies, self.distribution = space, list(by), dict(table), copies, distribution
        self.optimize = optimize

    @classmethod
    def from_config(cls, space, cfg: dict, distribution: str | None = None) -> "CopyRouting":
        """``{"by": [choice names], "groups": [per copy: list of value lists, or "rest"]}``."""
        if not isinstance(cfg, dict) or set(cfg) - {"by", "groups", "optimize"}:
            raise InputError(f"must be a mapping with keys by, groups and optimize, got {cfg!r}", key=KEY)
        optimize = cfg.get("optimize", "group")
        if optimize not in ("group", "all"):
            raise InputError(f"must be group or all, got {optimize!r}", key=f"{KEY}.optimize")
        choices = {c.name: c for c in space.choices(distribution)}
        by, groups = cfg.get("by"), cfg.get("groups")
        if not isinstance(by, list) or not by or any(name not in choices for name in by):
            raise InputError(f"must list choice names of space {space.name} (e.g. d3, d4), got {by!r}", key=f"{KEY}.by")
        if not isinstance(groups, list) or len(groups) < 2:
            raise InputError(f"must list at least two copies, got {groups!r}", key=f"{KEY}.groups")
        every = set(itertools.product(*(choices[name].options for name in by)))
        table, rest = {}, None
        for i, group in enumerate(groups):
            key = f"{KEY}.groups[{i}]"
            if group == "rest":
                if rest is not None:
                    raise InputError("only one copy may take the rest", key=key)
                rest = i
                continue
            if not isinstance(group, list) or not group:
                raise InputError(f"must be a list of {len(by)}-value lists or 'rest', got {group!r}", key=key)
            for values in group:
                values = tuple(values) if isinstance(values, list) else (values,)
                if values not in every:
                    raise InputError(f"{list(values)} is not a value of ({', '.join(by)}) in space {space.name}", key=key)
                if values in table:
                    raise InputError(f"{list(values)} is assigned twice (copies {table[values]} and {i})", key=key)
                table[values] = i
        missing = sorted(every - set(table))
        if rest is not None:
            table.update({values: rest for values in missing})
        elif missing:
            raise InputError(f"({', '.join(by)}) = {list(missing[0])} is assigned to no copy ({len(missing)} unassigned); "
                             "list it or add a 'rest' copy", key=f"{KEY}.groups")
        return cls(space, by, table, len(groups), distribution, optimize)

    def group_of(self, code: str) -> int:
        """The copy index of ``code``."""
        values = self.space.choice_values(code, self.distribution)
        return self.table[tuple(values[name] for name in self.by)]


def copy_routing(cfg: dict) -> CopyRouting | None:
    """The few-shot supernet's arch-to-copy routing of a resolved run config (None without
    ``model.few_shot``).

    Example:
        >>> copy_routing({"space": "cvpr22_resnet48", "model": {}}) is None
        True
    """
    few_shot = cfg["model"].get("few_shot")
    if not few_shot:
        return None
    from . import get_space

    return CopyRouting.from_config(get_space(cfg["space"]), few_shot, cfg["model"].get("distribution"))
