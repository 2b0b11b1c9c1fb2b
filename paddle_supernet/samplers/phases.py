"""Progressive shrinking as a schedule: phases of epochs, each with its own ranges and lr.

Each phase names its epochs (a count, following the previous phase, or
``[first, last]``), optionally a learning rate, per-stage ``depth`` ranges,
per-stage ``width`` ranges (2022: width codes, 1 the widest; 2021: channel
counts; the stem follows stage 1) and, for a few-shot supernet, the copy
``group`` whose archs it trains. Within a phase, archs are uniform within the
ranges (or, with ``archs``, taken in shuffled order from a list file and
filtered by the phase). The loop restarts the cosine schedule at each phase
(``cosine_unit``: ``step``, or ``epoch`` as released: constant within an
epoch) and, with ``restart_optimizer``, a fresh optimizer.

Example (YAML)::

    sampler:
      name: phases
      phases:
        - {epochs: 5, lr: 0.008, depth: [[4, 5], [4, 5], [6, 8], [2, 5]], width: [[1, 1], [1, 1], [1, 1], [1, 1]]}
        - {epochs: 10, lr: 0.016, depth: [[3, 5], [3, 5], [4, 8], [2, 5]], width: [[1, 1], [1, 1], [1, 1], [1, 1]]}

    >>> from paddle_supernet.spaces import get_space
    >>> space = get_space("cvpr21_resnet20")
    >>> sampler = PhasesSampler(space, 0, phases=[{"epochs": 1, "width": [[16, 16], [32, 32], [64, 64]]},
    ...                                            {"epochs": 1}])
    >>> sampler.archs(0, 0, 1) == [space.largest()]
    True
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from ..rng import local_rng
from .base import STREAMS, Sampler, check_count, draw_from_choices
from .basic import ShuffledPasses

PHASE_KEYS = ("epochs", "lr", "depth", "width", "group")
MAX_REJECTIONS = 10_000


@dataclass(frozen=True)
class Phase:
    """One phase: its epochs ``[first, first + epochs)``, lr (None: the optimizer's) and choices."""

    index: int
    first_epoch: int
    epochs: int
    lr: float | None
    choices: tuple
    group: int | None


def _range(value, key: str) -> tuple[int, int]:
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value) or value[0] > value[1]):
        raise InputError(f"must be [low, high] integers with low <= high, got {value!r}", key=key)
    return int(value[0]), int(value[1])


def restrict_choices(space, choices, depth, width, key: str) -> tuple:
    """``choices`` with the options of each stage's depth and width limited to ``[low, high]`` ranges
    (one per stage, or None for no limit); an error names ``key`` for a range outside the space."""
    stages = space.num_stages
    ranges = {}
    for kind, spec in (("depth", depth), ("width", width)):
        if spec is None:
            continue
        if not isinstance(spec, list) or len(spec) != stages:
            raise InputError(f"must list one [low, high] per stage ({stages}), got {spec!r}", key=f"{key}.{kind}")
        for s, value in enumerate(spec):
            ranges[(kind, s)] = _range(value, f"{key}.{kind}[{s}]")
    kinds = {(c.kind, c.stage) for c in choices}
    for (kind, s), (low, high) in ranges.items():
        if (kind, s) not in kinds:
            raise InputError(f"stage {s + 1} has no {kind} choice in space {space.name}", key=f"{key}.{kind}[{s}]")
        options = sorted({o for c in choices if (c.kind, c.stage) == (kind, s) for o in c.options})
        if low < options[0] or high > options[-1]:
            raise InputError(f"[{low}, {high}] is outside the space: stage {s + 1} {kind} options are "
                             f"{options[0]}..{options[-1]}", key=f"{key}.{kind}[{s}]")
    out = []
    for c in choices:
        low, high = ranges.get((c.kind, c.stage), (c.options[0], c.options[-1]))
        options = tuple(o for o in c.options if low <= o <= high)
        if not options:
            raise InputError(f"[{low}, {high}] holds no option of {c.name} ({c.options})", key=f"{key}.{c.kind}[{c.stage}]")
        out.append(type(c)(c.name, c.kind, c.stage, options))
    return tuple(out)


class PhasesSampler(Sampler):
    """See the module docstring. ``route`` (set by the builder for a few-shot model) maps a code to its
    copy; ``archs``: a list of codes to draw from instead of the distribution."""

    def __init__(self, space, seed: int, distribution=None, variant=None, phases=None, restart_optimizer: bool = True,
                 cosine_unit: str = "step", archs=None, route=None, total_epochs: int | None = None):
        super().__init__(space, seed, distribution, variant)
        if not isinstance(phases, list) or not phases:
            raise InputError("must be a non-empty list of phases ({epochs, lr, depth, width, group})", key="sampler.phases")
        if cosine_unit not in ("step", "epoch"):
            raise InputError(f"must be step or epoch, got {cosine_unit!r}", key="sampler.cosine_unit")
        self.restart_optimizer, self.cosine_unit = bool(restart_optimizer), cosine_unit
        self.route, self.codes = route, list(archs) if archs else None
        all_choices = space.choices(distribution)
        self.phases: list[Phase] = []
        next_epoch = 0
        for i, spec in enumerate(phases):
            key = f"sampler.phases[{i}]"
            if not isinstance(spec, dict):
                raise InputError(f"must be a mapping with keys {', '.join(PHASE_KEYS)}, got {spec!r}", key=key)
            unknown = sorted(set(spec) - set(PHASE_KEYS))
            if unknown:
                raise InputError(f"unknown key {unknown[0]!r} (known: {', '.join(PHASE_KEYS)})", key=key)
            first, count = self._epochs(spec.get("epochs"), next_epoch, f"{key}.epochs")
            lr = spec.get("lr")
            if lr is not None and (isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr <= 0):
                raise InputError(f"must be a number > 0, got {lr!r}", key=f"{key}.lr")
            group = spec.get("group")
            if group is not None:
                if route is None:
                    raise InputError("names a copy group, but the model is not a few-shot supernet (model.few_shot)",
                                     key=f"{key}.group")
                if isinstance(group, bool) or not isinstance(group, int) or not 0 <= group < route.copies:
                    raise InputError(f"must be a copy index 0..{route.copies - 1}, got {group!r}", key=f"{key}.group")
            choices = self._restrict(all_choices, spec.get("depth"), spec.get("width"), key)
            self.phases.append(Phase(i, first, count, None if lr is None else float(lr), choices, group))
            next_epoch = first + count
        if total_epochs is not None and next_epoch != total_epochs:
            raise InputError(f"the phases cover epochs 0-{next_epoch - 1} but schedule.epochs is {total_epochs}; "
                             "they must cover every epoch once", key="sampler.phases")
        self.total_epochs = next_epoch
        self._lists: dict = {}

    @staticmethod
    def _epochs(value, next_epoch: int, key: str) -> tuple[int, int]:
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 1:
                raise InputError(f"must be at least 1, got {value}", key=key)
            return next_epoch, value
        first, last = _range(value, key)
        if first != next_epoch:
            problem = "overlaps the previous phase" if first < next_epoch else f"leaves epochs {next_epoch}-{first - 1} to no phase"
            raise InputError(f"[{first}, {last}] {problem}; phases must cover every epoch once, in order", key=key)
        return first, last - first + 1

    def _restrict(self, choices, depth, width, key: str) -> tuple:
        return restrict_choices(self.space, choices, depth, width, key)

    def phase_at(self, epoch: int) -> Phase:
        for phase in self.phases:
            if phase.first_epoch <= epoch < phase.first_epoch + phase.epochs:
                return phase
        raise InputError(f"epoch {epoch} is in no phase (the phases cover {self.total_epochs} epochs)", key="sampler.phases")

    def allows(self, phase: Phase, code: str) -> bool:
        """True when ``code`` lies within ``phase``'s ranges and copy group."""
        if phase.group is not None and self.route.group_of(code) != phase.group:
            return False
        values = self.space.choice_values(code, self.distribution)
        return all(c.name not in values or values[c.name] in c.options for c in phase.choices)

    def _phase_list(self, phase: Phase):
        if phase.index not in self._lists:
            kept = [c for c in self.codes if self.allows(phase, c)]
            if not kept:
                raise InputError(f"no arch of the list lies within phase {phase.index}'s ranges", key="sampler.archs")
            self._lists[phase.index] = ShuffledPasses(kept, self.seed, salt=phase.index)
        return self._lists[phase.index]

    def archs(self, epoch: int, step: int, count: int) -> list[str]:
        check_count(count)
        phase = self.phase_at(epoch)
        if self.codes is not None:  # the list's archs of this phase, shuffled once per pass, in order
            if self.steps_per_epoch is None:
                raise RuntimeError("bind(steps_per_epoch) before sampling from a list")
            codes = self._phase_list(phase)
            start = ((epoch - phase.first_epoch) * self.steps_per_epoch + step) * count
            return [codes.at(position) for position in range(start, start + count)]
        out = []
        for k in range(count):
            rng = local_rng(self.seed, epoch, step, k, STREAMS["phases"])
            for _ in range(MAX_REJECTIONS):
                code = draw_from_choices(self.space, phase.choices, rng, self.distribution)
                if phase.group is None or self.route.group_of(code) == phase.group:
                    break
            else:
                raise InputError(f"phase {phase.index}'s ranges hold no arch of copy group {phase.group}",
                                 key=f"sampler.phases[{phase.index}]")
            out.append(code)
        return out
