"""The training loop: epochs, steps, learning rate, checkpoints, logging.

What a step does belongs to the strategy (:mod:`paddle_supernet.strategies`);
the loop only feeds batches, sets the learning rate, steps the optimizer and
saves. A run directory holds ``config.yaml``, ``checkpoint.pdparams`` and
``vdl/`` (VisualDL). Restarting the same command resumes from the checkpoint
and reaches the weights an uninterrupted run would.

Example:
    >>> Trainer(load_config("configs/quickstart_fmnist_r20.yaml"), "runs/quickstart").fit()  # doctest: +SKIP
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import paddle

from ..data import load_dataset
from ..errors import InputError
from ..io.atomic import atomic_write_text
from ..models import build_supernet
from ..proxies import model_variant
from ..samplers import build_sampler
from ..spaces import get_space
from ..spaces.routing import copy_routing
from ..strategies import build_strategy
from .checkpoint import check_state_matches, load_checkpoint, restore_model, save_checkpoint
from .config import dump_config, training_fingerprint
from .parallel import DataParallelRun
from .progress import Progress, ScalarLog

CHECKPOINT_NAME = "checkpoint.pdparams"


def lr_at(step: int, total_steps: int, base_lr: float, warmup_steps: int, min_lr: float = 0.0) -> float:
    """Linear warm-up from ``base_lr / warmup_steps`` to ``base_lr``, then cosine down to ``min_lr``.

    A warm-up longer than the run keeps its slope (``base_lr * (step + 1) / warmup_steps`` until the
    run ends), as a released LinearWarmup stopped early did.

    >>> lr_at(0, 100, 0.1, 10), lr_at(9, 100, 0.1, 10), lr_at(100, 100, 0.1, 10)
    (0.01, 0.1, 0.0)
    >>> lr_at(4, 5, 0.1, 25)  # the last step of a 5-step run planned with a 25-step warm-up
    0.02
    """
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return cosine(min(1.0, progress), base_lr, min_lr)


def cosine(position: float, base_lr: float, min_lr: float = 0.0) -> float:
    """``min_lr + (base_lr - min_lr) (1 + cos(pi position)) / 2``; periodic beyond 1 (position 2 is base_lr
    again), as Paddle's ``CosineAnnealingDecay`` stepped past its ``T_max``."""
    return min_lr + 0.5 * (base_lr - min_lr) * (1.0 + math.cos(math.pi * position))


def released_lr_at(step: int, steps_per_epoch: int, base_lr: float, warmup_steps: int, unit: str, length: int,
                   min_lr: float = 0.0) -> float:
    """A Paddle ``LinearWarmup(CosineAnnealingDecay(base_lr, T_max=length))`` as the released 2022 code
    stepped it (``schedule.cosine_length`` set): the warm-up per step, then the cosine per ``unit``.

    ``unit: epoch`` (the official baseline's ``LRSchedulerM``, trap T9): the cosine moves at each epoch's
    end, and once more at the end of the epoch in which the warm-up ended, so epoch ``e`` after the
    warm-up runs at position ``(e - e_w) / length`` with ``e_w`` that epoch (or ``e / length`` without a
    warm-up); with ``length`` the run's epochs it ends above ``min_lr``. ``unit: step`` (Paddle's
    ``callbacks.LRScheduler`` default, the winner's stage 1, trap T8): position ``(step - warm-up) /
    length``, cycling every ``2 length`` steps.

    >>> round(released_lr_at(69 * 10, 10, 1.0, 50, "epoch", 70), 4)  # the baseline's last epoch: 1.25%
    0.0125
    >>> released_lr_at(20, 100, 1.0, 0, "step", 10)  # Cosine(T_max=10) by step: back at the top after 20
    1.0
    """
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    if unit == "step":
        return cosine((step - warmup_steps) / length, base_lr, min_lr)
    moves = step // steps_per_epoch - ((warmup_steps - 1) // steps_per_epoch if warmup_steps else 0)
    return cosine(moves / length, base_lr, min_lr)


def build_optimizer(model, cfg: dict, group: int | None = None):
    """Momentum over the trainable parameters; ``group``: only that copy's (a few-shot supernet's phase
    of one copy group, with ``model.few_shot.optimize: group``)."""
    opt = cfg["optimizer"]
    source = model.group_parameters(group) if group is not None else model.parameters()
    params = [p for p in source if not p.stop_gradient]
    return paddle.optimizer.Momentum(learning_rate=opt["lr"], momentum=opt["momentum"], parameters=params,
                                     use_nesterov=bool(opt["nesterov"]),
                                     weight_decay=paddle.regularizer.L2Decay(opt["weight_decay"]))


class Trainer:
    """Trains the supernet of ``cfg`` in ``run_dir``; see the module docstring."""

    def __init__(self, cfg: dict, run_dir: str | Path | None, data=None, model=None, strategy=None,
                 quiet: bool = False):
        """``run_dir`` None: no checkpoints or logs (short stand-alone runs). ``model``/``strategy``
        replace the config's supernet and strategy (e.g. a plain network with :class:`PlainStep`)."""
        self.cfg, self.run_dir, self.quiet = cfg, Path(run_dir) if run_dir is not None else None, quiet
        self.checkpoint_path = self.run_dir / CHECKPOINT_NAME if self.run_dir is not None else None
        self.space = get_space(cfg["space"])
        self.train_data, self.val_data = data if data is not None else load_dataset(cfg["data"])
        self.model = model if model is not None else build_supernet(cfg, self.train_data.num_classes)
        distribution = cfg["model"].get("distribution")
        self.sampler = build_sampler(cfg.get("sampler"), self.space, cfg["seed"], distribution,
                                     model_variant(cfg["model"], cfg["data"]["image_size"]),
                                     total_epochs=cfg["schedule"]["epochs"], route=copy_routing(cfg))
        if strategy is None:
            strategy = build_strategy(cfg["strategy"], self.space, cfg["seed"], distribution, self.sampler)
            strategy.setup(cfg, self.train_data.num_classes)
        self.strategy = strategy
        self.parallel = DataParallelRun(self.model)
        if getattr(self.strategy, "steps_twice", False) and self.parallel.world > 1:
            raise InputError("takes a second optimizer step decided by each rank's own loss (strategy.look > 0), "
                             "which data-parallel ranks would not agree on; run it in one process", key="strategy.look")
        self.batches = self.train_data.train_batches(cfg["data"]["batch_size"], cfg["data"]["augment"], cfg["seed"],
                                                     shard=self.parallel.shard,
                                                     views=getattr(self.strategy, "views", 1),
                                                     order=cfg["data"].get("order", "shuffled"))
        self.total_steps = cfg["schedule"]["epochs"] * self.batches.steps_per_epoch
        self.sampler.bind(self.batches.steps_per_epoch)
        self.optimizer = self._optimizer_for(0)
        self.fingerprint = training_fingerprint(cfg)
        self.step = 0
        self.finished = False
        self._seconds_before, self._clock = 0.0, None  # training wall time of earlier runs; start of this one
        self.last_saved = 0  # the step of the last checkpoint written or resumed
        self.first_step_digest: str | None = None  # the strategy's agreement digest after step 1

    def train_seconds(self) -> float:
        """Wall time spent training this run so far, over every resume (recorded in the checkpoint)."""
        running = time.perf_counter() - self._clock if self._clock is not None else 0.0
        return round(self._seconds_before + running, 2)

    def meta(self) -> dict:
        return {"config": self.cfg, "fingerprint": self.fingerprint, "space": self.cfg["space"],
                "train_seconds": self.train_seconds(),
                "num_classes": self.train_data.num_classes, "step": self.step, "total_steps": self.total_steps,
                "finished": self.finished, "strategy_state": self.strategy.state_dict(),
                "first_step_digest": self.first_step_digest,
                "data_parallel": {"ranks": self.parallel.world, "global_batch": self.cfg["data"]["batch_size"],
                                  "rank_batch": self.cfg["data"]["batch_size"] // self.parallel.world,
                                  "lr": self.cfg["optimizer"]["lr"],
                                  "lr_rule": "optimizer.lr is the lr of the global batch (no scaling by ranks)"}}

    def _resume_or_init(self) -> None:
        if self.checkpoint_path is not None and self.checkpoint_path.exists():
            state = load_checkpoint(self.checkpoint_path)
            meta = state["meta"]
            if meta.get("fingerprint") != self.fingerprint:
                raise InputError("was written by a different training config; use the same config to resume "
                                 "or another run directory", file=str(self.checkpoint_path))
            restore_model(self.model, state, str(self.checkpoint_path))
            # the optimizer the saved state belongs to: that of the last step done (a finished run has no
            # phase at its step count; at a phase start the loop restarts the optimizer as uninterrupted)
            self.optimizer = self._optimizer_for(max(int(meta["step"]) - 1, 0))
            self.optimizer.set_state_dict(state["optimizer"])
            self.strategy.load_state_dict(meta.get("strategy_state") or {})
            self.step, self.finished = int(meta["step"]), bool(meta["finished"])
            self._seconds_before = float(meta.get("train_seconds", 0.0))
            self.first_step_digest = meta.get("first_step_digest")
            self.last_saved = self.step
            print(f"[train] resumed from {self.checkpoint_path} at step {self.step}/{self.total_steps}", flush=True)
            return
        pretrained = self.cfg["model"].get("pretrained")
        if pretrained:
            from ..nn.official_weights import full_network_state, load_official, reorder_by_l1

            state = full_network_state(pretrained, self.cfg["space"])
            state = reorder_by_l1(state) if self.cfg["model"].get("reorder") else state
            targets = self.model.plain_targets() if hasattr(self.model, "plain_targets") else [self.model]
            for target in targets:
                load_official(target, state, str(pretrained))
            print(f"[train] initialised weights from the full network {pretrained}", flush=True)
        init_from = self.cfg["checkpoint"]["init_from"]
        if init_from:
            state = load_checkpoint(init_from)
            if state["meta"].get("space") != self.cfg["space"]:
                raise InputError(f"checkpoint is for space {state['meta'].get('space')!r}, config says {self.cfg['space']!r}",
                                 file=str(init_from))
            self._init_from_stage(state, str(init_from))
            print(f"[train] initialised weights from {init_from}", flush=True)

    def _init_from_stage(self, state: dict, path: str) -> None:
        """Weights of a previous stage; a changed ``model.branches`` splits them (progressive training)."""
        old_model = state["meta"]["config"]["model"]
        new_model = self.cfg["model"]
        if state["meta"].get("num_classes") != self.train_data.num_classes:
            raise InputError(f"was trained for {state['meta'].get('num_classes')} classes, this data has "
                             f"{self.train_data.num_classes}", file=path, key="checkpoint.init_from")
        # branches may be split, options enhancement may start from a base pretraining (the largest
        # widths, hence every parameter shape, are the same) and a PReLU stage may start from a ReLU
        # checkpoint (the released pipeline; slopes start at model.prelu_init); nothing else may change
        weights = dict(state["model"])
        for key in ("shortcut", "activation"):
            if old_model.get(key) == new_model[key]:
                continue
            if key == "activation" and old_model.get(key) == "relu" and new_model[key] == "prelu":
                weights.update({k: v for k, v in self.model.state_dict().items() if k.endswith(".act._weight")})
                continue
            raise InputError(f"model.{key} is {old_model.get(key)!r} there but {new_model[key]!r} in this config",
                             file=path)
        if old_model.get("contrastive") and not new_model.get("contrastive"):  # the neck, key encoder and
            weights = {k[len("backbone."):]: v for k, v in weights.items() if k.startswith("backbone.")}  # queue go
        wrapper = "few_shot" if new_model.get("few_shot") else "contrastive" if new_model.get("contrastive") else None
        if wrapper and not old_model.get(wrapper):
            check_state_matches(self.model.plain_targets()[0], weights, path)
            self.model.load_plain(weights)  # every copy / both encoders start from one plain supernet
            return
        old_branches, old_teacher = old_model.get("branches", "none"), old_model.get("teacher_weights", "shared")
        if old_branches != new_model["branches"] or old_teacher != new_model.get("teacher_weights", "shared"):
            self.model.load_stage(weights, old_branches, old_teacher)
        else:
            restore_model(self.model, {"model": weights}, path)

    def save(self) -> None:
        if self.checkpoint_path is not None and self.parallel.is_main:
            save_checkpoint(self.checkpoint_path, self.model, self.optimizer, self.meta())
        self.last_saved = self.step

    def fit(self, stop_after: int | None = None) -> Path | None:
        """Train to the end (or until ``stop_after`` steps are done, for tests); returns the checkpoint path."""
        self._resume_or_init()  # a refused resume raises before anything in the run directory changes
        if self.parallel.world > 1 and self.parallel.is_main and not self.quiet:
            print(f"[train] {self.parallel.world} ranks x {self.cfg['data']['batch_size'] // self.parallel.world} images "
                  f"= global batch {self.cfg['data']['batch_size']}, lr {self.cfg['optimizer']['lr']} for the global "
                  "batch", flush=True)
        if self.run_dir is not None and self.parallel.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.run_dir / "config.yaml", dump_config(self.cfg))
        if self.finished:
            print(f"[train] {self.checkpoint_path} is already finished", flush=True)
            target = self.cfg["checkpoint"].get("export_full")
            if target and not Path(target).exists():
                self._export_full()
            self.parallel.wait_for_main()
            return self.checkpoint_path
        log_cfg, ckpt_every = self.cfg["log"], self.cfg["checkpoint"]["every_steps"]
        self._clock = time.perf_counter()
        main = self.parallel.is_main
        scalars_log = ScalarLog(self.run_dir / "vdl" if self.run_dir else "",
                                enabled=log_cfg["visualdl"] and self.run_dir is not None and main)
        progress = Progress("train", self.total_steps, start=self.step, unit="step", every_seconds=log_cfg["every_seconds"])
        spe = self.batches.steps_per_epoch
        self.model.train()
        try:
            while self.step < self.total_steps:
                epoch, step_in_epoch = divmod(self.step, spe)
                images, labels = self.batches.batch(epoch, step_in_epoch)
                lr = self.lr_at_step(self.step)
                if self._phase_starts(self.step):
                    self.optimizer = self._optimizer_for(self.step)  # fresh momentum, as released
                self.optimizer.set_lr(lr)
                with self.parallel.accumulate() as model:
                    scalars = self.strategy.step(model, images, labels, epoch, step_in_epoch)
                self._check_finite(scalars, epoch)
                self.parallel.sync_gradients()
                with paddle.utils.unique_name.guard():  # accumulators (created at the first step) get
                    self.optimizer.step()               # the same names in every process: resumable
                self.optimizer.clear_grad()
                with self.parallel.accumulate() as model:
                    extra, again = self.strategy.after_step(model, images, labels, epoch, step_in_epoch)
                if again:  # e.g. the released 2021 "max-recover" step
                    self.parallel.sync_gradients()
                    self.optimizer.step()
                    self.optimizer.clear_grad()
                scalars.update(extra)
                self.step += 1
                if self.step % log_cfg.get("rank_check_every", 100) == 0 or self.step == 1:
                    digest = self.strategy.agreement_digest()
                    self.parallel.check_agreement(digest, self.step)
                    if self.step == 1:  # what the first step trained: compared across runs (the rehearsal)
                        self.first_step_digest = digest
                if self.step % log_cfg["every_steps"] == 0 or self.step == self.total_steps:
                    for tag, value in {**scalars, "lr": lr, "epoch": epoch}.items():
                        scalars_log.add(tag, value, self.step)
                if main and not self.quiet:
                    progress.update(self.step, epoch=epoch + 1, lr=lr, **scalars)
                self.finished = self.step == self.total_steps
                if self.finished or self.step % ckpt_every == 0 or self.step % spe == 0:
                    self.save()
                if stop_after is not None and self.step >= stop_after:
                    break
        finally:
            scalars_log.close()
        if hasattr(self.model, "set_active"):
            self.model.set_active(self.space.largest())
        self._export_full()
        self.parallel.wait_for_main()  # a data-parallel chain's next stage reads what rank 0 wrote
        return self.checkpoint_path

    def _check_finite(self, scalars: dict, epoch: int) -> None:
        """Stop at the first non-finite loss, before the optimizer step, so the last checkpoint stays good."""
        bad = {name: value for name, value in scalars.items() if name.startswith("loss") and not math.isfinite(value)}
        if bad:
            name, value = next(iter(bad.items()))
            kept = (f"{self.checkpoint_path} keeps step {self.last_saved}, the last good state"
                    if self.checkpoint_path is not None and self.last_saved else "nothing was saved")
            raise InputError(f"training diverged at step {self.step + 1} (epoch {epoch + 1}): {name} is {value}; stopped "
                             f"there ({kept}); lower optimizer.lr or check the data", key="optimizer.lr")

    def lr_at_step(self, step: int) -> float:
        """The learning rate of global ``step``: one warm-up + cosine over the run (per step, or as the
        released 2022 code stepped it with ``schedule.cosine_unit`` / ``cosine_length``), or, with phases,
        a cosine restarted at each phase from the phase's lr (per step, or constant within an epoch
        with ``cosine_unit: epoch``); the warm-up applies to the first phase only. Times
        ``optimizer.lr_scale``."""
        return self.cfg["optimizer"].get("lr_scale", 1.0) * self._unscaled_lr_at_step(step)

    def _unscaled_lr_at_step(self, step: int) -> float:
        sched, base_lr, spe = self.cfg["schedule"], self.cfg["optimizer"]["lr"], self.batches.steps_per_epoch
        phase = self.sampler.phase_at(step // spe)
        if phase is None:
            unit, length = sched.get("cosine_unit", "step"), sched.get("cosine_length")
            if unit == "step" and length is None:
                return lr_at(step, self.total_steps, base_lr, sched["warmup_steps"], sched["min_lr"])
            if length is None:  # per epoch over the epochs after the warm-up's
                length = sched["epochs"] - (sched["warmup_steps"] - 1) // spe if sched["warmup_steps"] else sched["epochs"]
            return released_lr_at(step, spe, base_lr, sched["warmup_steps"], unit, length, sched["min_lr"])
        phase_lr = phase.lr if phase.lr is not None else base_lr
        warmup = sched["warmup_steps"] if phase.index == 0 else 0
        if self.sampler.cosine_unit == "epoch" and step >= warmup:  # the cosine's position moves once an epoch
            return lr_at(step // spe - phase.first_epoch, phase.epochs, phase_lr, 0, sched["min_lr"])
        return lr_at(step - phase.first_epoch * spe, phase.epochs * spe, phase_lr, warmup, sched["min_lr"])

    def _optimizer_for(self, step: int):
        """The optimizer of ``step``'s phase: over one copy's parameters when the phase trains one
        copy group and ``model.few_shot.optimize`` is ``group``, else over every parameter."""
        group = None
        route = getattr(self.model, "route", None)
        if route is not None and route.optimize == "group":
            group = getattr(self.sampler.phase_at(step // self.batches.steps_per_epoch), "group", None)
        return build_optimizer(self.model, self.cfg, group)

    def _phase_starts(self, step: int) -> bool:
        """True at the first step of a phase after the first, when phases restart the optimizer."""
        spe = self.batches.steps_per_epoch
        if step % spe or not getattr(self.sampler, "restart_optimizer", False):
            return False
        phase = self.sampler.phase_at(step // spe)
        return phase is not None and phase.index > 0 and phase.first_epoch == step // spe

    def _export_full(self) -> None:
        """``checkpoint.export_full``: the finished largest arch as a state dict in the official layout."""
        target = self.cfg["checkpoint"].get("export_full")
        if not (target and self.finished and self.parallel.is_main and hasattr(self.model, "export")):
            return
        from ..nn.official_weights import save_official

        was_training = self.model.training
        self.model.eval()
        save_official(target, self.model.export(self.space.largest()))
        if was_training:
            self.model.train()
        print(f"[train] wrote the full network in the official layout to {target}", flush=True)
