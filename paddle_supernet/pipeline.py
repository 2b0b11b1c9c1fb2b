"""Orchestration: train then evaluate one config, and chains of stages (progressive training).

A chain file lists stage configs; each stage runs in ``<run root>/<stage name>``
and starts from the previous stage's checkpoint (``checkpoint.init_from``),
a finished stage is skipped, and the stages named under ``evaluate`` are
scored on their config's arch list.

Example chain file (``configs/cvpr21/chain_prl_oe.yaml``)::

    name: cvpr21_prl_oe
    stages:
      - {name: pretrain, config: pretrain_largest_prelu.yaml}
      - {name: stage1, config: stage1_prl_oe.yaml}
      - {name: stage2, config: stage2_prl_oe.yaml}
    evaluate: [stage1, stage2]

    $ paddle-supernet chain --chain configs/cvpr21/chain_prl_oe.yaml --set seed=1 --run-root runs/prl_oe_seed1
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

import yaml

from .errors import InputError
from .io.challenge_json import arch_list_from_codes, read_arch_file, write_arch_file
from .io.guards import check_run_outputs


def eval_arch_list(cfg: dict, space, run_dir: Path):
    """The arch list a run is scored on: ``eval.archs`` (or ``eval.archs_subset`` of its archs, seeded
    by ``eval.sample_seed``, keys kept), or ``eval.sample`` archs of the model's distribution sampled
    once into the run (also when ``eval.archs`` is absent and ``eval.if_archs_missing`` is ``sample``)."""
    import numpy as np

    from .rng import local_rng

    ev = cfg["eval"]
    if ev["archs"] and (Path(ev["archs"]).exists() or ev["if_archs_missing"] != "sample"):
        archs = read_arch_file(ev["archs"], space)
        if ev["archs_subset"] and ev["archs_subset"] < len(archs):
            keys = list(archs)
            picks = np.sort(local_rng(ev["sample_seed"], stream=4).permutation(len(keys))[:ev["archs_subset"]])
            archs = {keys[i]: archs[keys[i]] for i in picks}
        return archs
    if ev["archs"]:
        print(f"[eval] {ev['archs']} is absent: scoring {ev['sample']} archs sampled from the space instead", flush=True)
    path = run_dir / "archs.json"
    if not path.exists():
        codes = space.sample_unique(ev["sample"], ev["sample_seed"], cfg["model"].get("distribution"))
        write_arch_file(path, arch_list_from_codes(codes, space.placeholder_acc))
    return read_arch_file(path, space)


def preflight(cfg: dict, file: str, produced: set | frozenset = frozenset(), evaluate: bool = True) -> None:
    """Check, before any data is loaded or any step trained, the files a run will read: the eval arch
    list (read and validated), ``checkpoint.init_from``, ``model.pretrained`` and an external
    teacher's weights. ``produced``: paths an earlier stage of the same chain will write.
    """
    from .spaces import get_space

    ev = cfg["eval"]
    archs = None
    if evaluate and ev["archs"] and (Path(ev["archs"]).exists() or ev["if_archs_missing"] != "sample"):
        archs = read_arch_file(ev["archs"], get_space(cfg["space"]))
    if evaluate and ev.get("gt"):
        gt = read_arch_file(ev["gt"], get_space(cfg["space"]))
        if archs is not None:
            shared = [key for key in archs if key in gt and gt[key].arch == archs[key].arch]
            if len(shared) < 3:
                raise InputError(f"shares {len(shared)} archs with eval.archs ({ev['archs']}); a report needs at "
                                 "least 3", file=ev["gt"], key="eval.gt")
    needed = {"checkpoint.init_from": cfg["checkpoint"].get("init_from"), "model.pretrained": cfg["model"].get("pretrained")}
    if cfg["strategy"].get("teacher") == "external":
        needed["strategy.teacher_weights"] = cfg["strategy"].get("teacher_weights")
    for key, path in needed.items():
        if path and str(path) not in produced and not Path(path).is_file():
            raise InputError(f"{path} not found (checked before training)", file=file, key=key)


def check_refines(previous: dict, cfg: dict, file: str) -> None:
    """A stage that starts from ``previous`` may only split its weight groups further (2021 space):
    checked for every field and the classifier before anything is trained."""
    if cfg["space"] != "cvpr21_resnet20" or previous["space"] != cfg["space"]:
        return
    from .nn.branches import HEAD_KEY, partition, refinement_sources, scheme_for
    from .spaces.cvpr21_resnet20 import FIELD_CHOICES

    old, new = previous["model"]["branches"], cfg["model"]["branches"]
    for field, key in [(f, f) for f in range(len(FIELD_CHOICES))] + [(18, HEAD_KEY)]:
        try:
            refinement_sources(partition(FIELD_CHOICES[field], scheme_for(old, key)),
                               partition(FIELD_CHOICES[field], scheme_for(new, key)))
        except InputError as err:
            where = f"field {key + 1} (1-based)" if isinstance(key, int) else f"the {key}"
            raise InputError(f"{err.problem} ({where}: the previous stage's model.branches is {old!r})",
                             file=file, key="model.branches") from None


def build_trainer(cfg: dict, run_dir: Path | None, config_file: str | None = None, data=None):
    """The run's :class:`~paddle_supernet.engine.trainer.Trainer`; a strategy's or the supernet's own check
    (e.g. ``strategy.alpha`` out of range, ``model.branches`` malformed) names ``config_file``."""
    from .engine.trainer import Trainer

    try:
        return Trainer(cfg, run_dir, data=data)
    except InputError as err:
        raise err.located(file=config_file) from None


def train_and_evaluate(cfg: dict, run_dir: Path, evaluate: bool = True, data=None, config_file: str | None = None):
    """Train ``cfg`` in ``run_dir`` (resuming), then score its arch list into ``run_dir/submission.json``.

    Returns ``(trainer, arch list, submission or None)``.
    """
    from .evaluator import Evaluator

    trainer = build_trainer(cfg, run_dir, config_file, data)
    checkpoint = trainer.fit()
    if not evaluate or not trainer.parallel.is_main:  # data-parallel runs evaluate on rank 0 only
        return trainer, None, None
    archs = eval_arch_list(cfg, trainer.space, run_dir)
    evaluator = Evaluator.from_checkpoint(checkpoint, data=(trainer.train_data, trainer.val_data))
    return trainer, archs, evaluator.evaluate(archs, run_dir / "submission.json")


def load_chain(path: str | Path) -> dict:
    """Read and check a chain file; stage config paths are resolved relative to it."""
    path = Path(path)
    try:
        chain = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("chain file not found", file=str(path)) from None
    except yaml.YAMLError as err:
        raise InputError(f"not valid YAML ({err})", file=str(path)) from None
    if not is_chain(chain) or set(chain) - {"name", "stages", "evaluate"}:
        raise InputError("a chain is a mapping with 'name', 'stages' (a list of {name, config}) and optional 'evaluate'",
                         file=str(path))
    from .engine.schema import folder_name_problem

    if "name" in chain and folder_name_problem(chain["name"]):
        raise InputError(f"{folder_name_problem(chain['name'])}, got {chain['name']!r}", file=str(path), key="name")
    names = []
    for i, stage in enumerate(chain["stages"]):
        if not isinstance(stage, dict) or not {"name", "config"} <= set(stage) <= {"name", "config", "run_dir",
                                                                                     *STAGE_FLAGS}:
            raise InputError("each stage needs 'name' and 'config' (and may set 'from_previous: false', "
                             "'same_seed: true', 'run_dir: PATH')", file=str(path), key=f"stages[{i}]")
        if "run_dir" in stage and (not isinstance(stage["run_dir"], str) or not stage["run_dir"]):
            raise InputError(f"must be a directory path, got {stage['run_dir']!r}", file=str(path),
                             key=f"stages[{i}].run_dir")
        for flag, default in STAGE_FLAGS.items():
            if not isinstance(stage.setdefault(flag, default), bool):
                raise InputError("must be true or false", file=str(path), key=f"stages[{i}].{flag}")
        if folder_name_problem(stage["name"]):
            raise InputError(f"{folder_name_problem(stage['name'])}, got {stage['name']!r}", file=str(path),
                             key=f"stages[{i}].name")
        if stage["name"] in names:
            raise InputError(f"stage name {stage['name']!r} is used twice (stage {names.index(stage['name']) + 1} and "
                             f"stage {i + 1}); each stage needs its own folder name", file=str(path),
                             key=f"stages[{i}].name")
        stage["config"] = str(path.parent / stage["config"])
        names.append(stage["name"])
    unknown = [name for name in chain.get("evaluate") or [] if name not in names]
    if unknown:
        raise InputError(f"names no stage of this chain: {unknown} (its stages: {names})", file=str(path),
                         key="evaluate")
    chain.setdefault("name", path.stem)
    chain["evaluate"] = list(chain.get("evaluate") or [])
    return chain


#: optional per-stage flags of a chain file and their defaults
STAGE_FLAGS = {"from_previous": True, "same_seed": False}
#: stage i of a chain trains with seed + SEED_STRIDE * i (unless it says same_seed: true)
SEED_STRIDE = 1000


def stage_seed(seed: int, index: int) -> int:
    """The seed stage ``index`` (0-based) of a chain trains with, so that a stage does not replay
    the previous stage's batches and subnets.

    >>> [stage_seed(1, i) for i in range(3)]
    [1, 1001, 2001]
    """
    return seed + SEED_STRIDE * index


def is_chain(data) -> bool:
    """True for the contents of a chain file (a mapping with a non-empty ``stages`` list)."""
    return isinstance(data, dict) and isinstance(data.get("stages"), list) and bool(data["stages"])


#: config keys holding a path a chain may write itself (a shared stage's network, a previous checkpoint)
PRODUCED_PATH_KEYS = ("model.pretrained", "checkpoint.export_full", "checkpoint.init_from", "strategy.teacher_weights")


def moved_under(path: str | Path, root: str | Path) -> Path:
    """``path`` inside ``root`` (an absolute path loses its anchor): ``runs/x`` -> ``ROOT/runs/x``."""
    path = Path(path)
    return Path(root) / (path.relative_to(path.anchor) if path.is_absolute() else path)


def move_shared_paths(cfg: dict, moves: dict) -> list[str]:
    """``--set`` values that point ``cfg``'s produced paths (:data:`PRODUCED_PATH_KEYS`) at their moved
    places: ``moves`` maps an original file or folder to its new place; paths inside a moved folder follow.

    >>> move_shared_paths({"model": {"pretrained": "runs/p/net.pdparams"}, "checkpoint": {}, "strategy": {}},
    ...                   {Path("runs/p"): Path("alt/runs/p")})
    ['model.pretrained=alt/runs/p/net.pdparams']
    """
    out = []
    for key in PRODUCED_PATH_KEYS:
        section, name = key.split(".")
        value = cfg.get(section, {}).get(name)
        if not value:
            continue
        path = Path(value)
        for source, target in moves.items():
            if path == source or source in path.parents:
                out.append(f"{key}={Path(target) / path.relative_to(source)}")
                break
    return out


@contextlib.contextmanager
def shared_stage_lock(run_dir: Path):
    """Hold an exclusive lock beside a shared stage's folder while it runs, so that two processes
    reaching the same shared stage (two seeds of a paper table, two jobs of the leaderboard) train it
    once: the second waits, then finds it finished. Single processes only (the ranks of a
    data-parallel run train a shared stage together) and where ``fcntl`` exists.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        fcntl = None
    if fcntl is None or int(os.environ.get("PADDLE_TRAINERS_NUM", "1")) > 1:
        yield
        return
    run_dir = Path(run_dir)
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(run_dir.parent / f".{run_dir.name}.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"[chain] {run_dir} is being trained by another process; waiting for it", flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_chain(chain_path: str | Path, overrides: list[str] | None = None, run_root: str | Path | None = None,
              adapt=None, every_stage: list[str] | None = None, shared_root: str | Path | None = None) -> dict:
    """Run every stage of a chain in order; returns ``{stage name: (trainer, arch list, submission)}``
    for the evaluated stages.

    A stage starts from the previous stage's checkpoint unless it says ``from_previous: false``
    (e.g. a 2022 supernet stage that starts from the pretrained full network its config names),
    and stage i trains with seed ``seed + 1000 * i`` (:func:`stage_seed`) unless it says
    ``same_seed: true``. A stage with ``run_dir`` is an artifact shared by chains and seeds (e.g.
    the benchmark's pretrained full network): it runs in that directory with its own config, no
    ``overrides`` and no derived seed, so a finished one is reused by every chain; two processes
    that reach it at once train it once (:func:`shared_stage_lock`).
    ``adapt(cfg, run_dir) -> (overrides, run_dir)``, when given, changes every stage (shared ones
    too) after its config is resolved: the rehearsal (:mod:`paddle_supernet.rehearsal`) uses it to
    run a recipe on tiny data in its own folder; its overrides are checked as ``--set`` values are.
    ``every_stage`` (``--set-all``) changes every stage, the shared ones too, e.g. another input size
    for a whole chain; changed shared stages must then live apart from the unchanged ones, so a chain
    with shared stages needs ``shared_root``: each shared stage runs in ``shared_root/<its run_dir>``,
    writes its exported network to ``shared_root/<its export_full>``, and every stage's paths to them
    follow (:func:`move_shared_paths`). Where both set a key, ``overrides`` win.
    """
    from .engine.config import load_config, merge_config

    chain = load_chain(chain_path)
    root = Path(run_root or Path("runs") / chain["name"])
    every_stage = list(every_stage or [])
    moves: dict = {}
    for stage in chain["stages"]:
        if "run_dir" not in stage:
            continue
        if every_stage and shared_root is None:
            raise InputError(f"--set-all changes the shared stage {stage['name']!r} ({stage['run_dir']}), which other "
                             "chains and seeds reuse as it is; give --shared-root DIR to keep the changed one apart",
                             file=str(chain_path), key="--shared-root")
        if shared_root is not None:
            export = load_config(stage["config"], every_stage)["checkpoint"]["export_full"]
            moves[Path(stage["run_dir"])] = moved_under(stage["run_dir"], shared_root)
            if export:
                moves[Path(export)] = moved_under(export, shared_root)
    planned, produced, previous = [], set(), None
    for index, stage in enumerate(chain["stages"]):  # every stage's config and inputs checked first
        shared = "run_dir" in stage  # a shared artifact: its own config alone, one directory for every chain
        stage_overrides = every_stage + ([] if shared else list(overrides or []))
        cfg = load_config(stage["config"], stage_overrides)
        moved = move_shared_paths(cfg, moves)
        if previous is not None and stage["from_previous"]:
            moved.append(f"checkpoint.init_from={previous}")
        if moved:
            cfg = merge_config(cfg, moved, stage["config"])
        if not stage["same_seed"] and index and not shared:
            cfg = merge_config(cfg, [f"seed={stage_seed(cfg['seed'], index)}"], stage["config"])
        run_dir = moves.get(Path(stage["run_dir"]), Path(stage["run_dir"])) if shared else root / stage["name"]
        if adapt is not None:
            extra, run_dir = adapt(cfg, run_dir)
            cfg = merge_config(cfg, extra, stage["config"])
        evaluate = stage["name"] in chain["evaluate"]
        preflight(cfg, stage["config"], produced, evaluate)
        if stage["from_previous"] and planned:
            if planned[-1][1]["space"] != cfg["space"]:
                raise InputError(f"is a {cfg['space']} stage after a {planned[-1][1]['space']} one it starts from; "
                                 "a stage may only continue the previous stage's space", file=stage["config"],
                                 key="space")
            check_refines(planned[-1][1], cfg, stage["config"])
        check_run_outputs(cfg, run_dir, stage["config"])  # no output over an input, before any stage trains
        previous = run_dir / "checkpoint.pdparams"
        produced |= {str(previous)} | ({str(cfg["checkpoint"]["export_full"])} if cfg["checkpoint"]["export_full"] else set())
        planned.append((stage, cfg, run_dir, evaluate))
    results = {}
    for stage, cfg, run_dir, evaluate in planned:
        print(f"[chain] stage {stage['name']}: {stage['config']} -> {run_dir}", flush=True)
        with shared_stage_lock(run_dir) if "run_dir" in stage else contextlib.nullcontext():
            trainer, archs, submission = train_and_evaluate(cfg, run_dir, evaluate=evaluate,
                                                            config_file=stage["config"])
        if submission is not None:
            results[stage["name"]] = (trainer, archs, submission)
    return results
