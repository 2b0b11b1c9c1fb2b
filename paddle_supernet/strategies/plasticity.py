"""Candidate plasticity training (CPT) and sub-supernet enhancing (SSE): the 2022 runner-up's steps.

Each step trains the sampler's archs (``ce_weight`` x CE, plus ``kd_weight`` x
soft-label CE to a frozen external teacher when ``kd_weight`` > 0), then
updates the constraint candidates (:mod:`paddle_supernet.samplers.candidates`)
with each trained arch and trains every candidate with
``candidate_weight / candidates`` x CE; gradients accumulate for one optimizer
step. CPT (released): k 1, 0.5 / 0.5, 10 candidates, knn 9, FIFO 100. SSE:
0.4 CE + 0.4 KD + 0.2 over 7 candidates (knn 6, FIFO 80), one manager per
copy group of the phases sampler, candidates drawn from that group.

Example:
    >>> strategy = build_strategy({"name": "cpt"}, space, seed=0)  # doctest: +SKIP
"""
from __future__ import annotations

from ..catalog import STRATEGY_DEFAULTS
from ..errors import InputError
from ..samplers.candidates import CandidateManager
from .base import ce_each, cross_entropy, soft_cross_entropy
from .distill import TeacherKD


class CandidatePlasticity(TeacherKD):
    """See the module docstring."""

    defaults = STRATEGY_DEFAULTS["cpt"]

    def __init__(self, space, seed: int, k: int = 1, ce_weight: float = 0.5, kd_weight: float = 0.0,
                 temperature: float = 1.0, reduce: str = "sum", teacher: str = "external", teacher_weights=None,
                 candidate_weight: float = 0.5, candidates: int = 10, knn: int = 9, recent: int = 100,
                 reset_every: int = 500, candidate_archs: str | None = None, with_replacement: bool = False,
                 skip_last_digit: bool = False):
        if k < 1:
            raise InputError(f"must be at least 1, got {k}", key="strategy.k")
        if not isinstance(candidate_weight, (int, float)) or candidate_weight < 0:
            raise InputError(f"must be a number >= 0, got {candidate_weight!r}", key="strategy.candidate_weight")
        super().__init__(space, seed, k, ce_weight, kd_weight, temperature, reduce, teacher, teacher_weights)
        self.candidate_weight = float(candidate_weight)
        self.manager_args = dict(size=candidates, recent=recent, knn=knn, reset_every=reset_every,
                                 with_replacement=with_replacement, skip_last_digit=skip_last_digit)
        CandidateManager(space, seed, **self.manager_args)  # checks the values now
        self.candidate_archs = candidate_archs
        self._list = None
        self.managers: dict[str, CandidateManager] = {}

    def setup(self, run_cfg: dict, num_classes: int) -> None:
        if self.kd_weight > 0:
            super().setup(run_cfg, num_classes)
        if self.candidate_archs:
            from ..samplers.basic import read_list_codes

            self._list = read_list_codes(self.candidate_archs, self.space)

    def manager(self, epoch: int) -> CandidateManager:
        """The candidate manager of the phase's copy group (one for the whole run without groups)."""
        phase = self.sampler.phase_at(epoch) if self.sampler is not None else None
        group = getattr(phase, "group", None)
        name = "all" if group is None else f"group{group}"
        if name not in self.managers:
            pool, accept = self._list, None
            if group is not None:
                route = self.sampler.route
                accept = lambda code: route.group_of(code) == group  # noqa: E731
                pool = None if pool is None else [c for c in pool if accept(c)]
            self.managers[name] = CandidateManager(self.space, self.seed, pool=pool, distribution=self.distribution,
                                                   salt=0 if group is None else group + 1, accept=accept,
                                                   **self.manager_args)
        return self.managers[name]

    def subnet_loss(self, logits, labels, teacher_logits):
        ce = cross_entropy(logits, labels)
        if teacher_logits is None:
            return self.ce_weight * ce, {"loss/subnet_ce": ce}
        kd = soft_cross_entropy(logits, teacher_logits, self.temperature)
        return self.ce_weight * ce + self.kd_weight * kd, {"loss/subnet_ce": ce, "loss/subnet_kd": kd}

    def step(self, model, images, labels, epoch: int, step: int) -> dict:
        if self.kd_weight > 0:
            if self.teacher is None:
                raise RuntimeError("call setup() before step(): the external teacher is not loaded")
            teacher_logits, scalars = self.teacher.logits(model, images, labels)
        else:
            teacher_logits, scalars = None, {}
        codes = self.step_archs(epoch, step, self.k)
        scalars = self._train_archs(model, images, labels, codes, teacher_logits, scalars)
        manager = self.manager(epoch)
        for code in codes:
            candidates = manager.update(code, epoch, step)
        scale = self.candidate_weight / len(candidates)
        scalars["loss/candidate_ce"] = ce_each(model, images, labels, candidates, scale)
        return scalars

    def state_dict(self) -> dict:
        state = super().state_dict()
        state["candidates"] = {name: m.state_dict() for name, m in self.managers.items()}
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        for name, manager_state in (state.get("candidates") or {}).items():
            group = None if name == "all" else int(name[len("group"):])
            epoch = 0
            if group is not None:
                epoch = next(p.first_epoch for p in self.sampler.phases if p.group == group)
            self.manager(epoch).load_state_dict(manager_state)
