"""The dress rehearsal: a shipped recipe run end to end on tiny synthetic data in the real formats.

Every stage keeps its image size, widths, depths, teacher, losses, sampler, phases, few-shot
copies, queue sizes and schedule shape; :func:`rehearsal_overrides` changes only what must change
to run here, and says so in its result:

- ``data.root``: the synthetic CIFAR-100 tarball or ImageNet folder (:mod:`.data.synthetic`);
- the batch (``data.batch_size``, raised to ``strategy.bn_splits`` where MoCo chunks it) and
  ``data.train_subset`` = the batch, so that an epoch is one step;
- the epochs: each phase of ``sampler.phases`` one epoch, a stage without phases at most
  ``steps`` epochs, ``schedule.cosine_length`` shrunk in proportion;
- evaluation: ``eval.archs`` the official list of the space, ``eval.archs_subset`` a few of its
  archs, a few calibration and validation images;
- paths under ``runs/`` a chain writes itself (the pretrained full network, an exported teacher):
  moved under the rehearsal's own folder.

Example:
    >>> setting = Setting(data_roots={"cifar100": "r/cifar", "imagenet": "r/imagenet"}, root="r",
    ...                   shared_data="../shared/data")
    >>> cfg = {"data": {"name": "cifar100", "batch_size": 128}, "schedule": {"epochs": 300},
    ...        "sampler": {}, "strategy": {}, "space": "cvpr21_resnet20", "model": {}, "checkpoint": {}, "eval": {}}
    >>> rehearsal_overrides(cfg, setting)[:3]
    ['data.root=r/cifar', 'data.batch_size=2', 'data.train_subset=2']
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .pipeline import PRODUCED_PATH_KEYS, moved_under

#: training images of the real datasets, for the full-scale estimate
DATASET_IMAGES = {"cifar100": 50_000, "imagenet": 1_281_167}
#: the official arch list each space's evaluated stages score a few archs of (under the shared data folder)
OFFICIAL_LIST = {"cvpr21_resnet20": "cvpr21/Track1_final_archs.json",
                 "cvpr22_resnet48": "cvpr22/CVPR_2022_NAS_Track1_test.json"}
#: the GPU the full-scale estimate assumes: sustained FP32 FLOP/s of a V100-class card (about 45% of its 15.7 T peak)
GPU_FLOPS = 7.0e12


@dataclass
class Setting:
    """What a rehearsal changes: where its data and runs live, and how small a stage is."""
    data_roots: dict
    root: str | Path
    shared_data: str | Path
    batch: int = 2
    steps: int = 2          # epochs (= steps) of a stage without phases
    images: int = 4         # calibration and validation images
    archs: int = 2          # archs of the official list an evaluated stage scores
    stages: list = field(default_factory=list)  # filled by the adapter: one record per stage it adapted


def _get(cfg: dict, dotted: str):
    node = cfg
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _flow(value) -> str:
    """A value as a one-line YAML ``--set`` value."""
    return yaml.safe_dump(value, default_flow_style=True, width=10**9).strip().removesuffix("\n...").strip()


def relocate(path, root: str | Path):
    """``runs/...`` -> ``ROOT/runs/...``; anything else unchanged.

    >>> str(relocate("runs/cvpr22_pretrain_largest/resnet48.pdparams", "reh"))
    'reh/runs/cvpr22_pretrain_largest/resnet48.pdparams'
    """
    if path is None:
        return None
    parts = Path(path).parts
    return moved_under(path, root) if parts and parts[0] == "runs" else path


def compressed_schedule(cfg: dict, steps: int = 2) -> dict:
    """The epoch keys of a stage at one step an epoch: each phase one epoch, otherwise at most ``steps``.

    >>> compressed_schedule({"schedule": {"epochs": 70, "cosine_length": 70},
    ...                      "sampler": {"phases": [{"epochs": 5, "lr": 0.1}, {"epochs": [5, 69]}]}})
    {'schedule.epochs': 2, 'sampler.phases': [{'epochs': 1, 'lr': 0.1}, {'epochs': 1}], 'schedule.cosine_length': 2}
    """
    shipped = int(cfg["schedule"]["epochs"])
    phases = _get(cfg, "sampler.phases")
    out: dict = {}
    if phases:
        out["schedule.epochs"] = len(phases)
        out["sampler.phases"] = [{**phase, "epochs": 1} for phase in phases]
    else:
        out["schedule.epochs"] = min(shipped, steps)
    length = _get(cfg, "schedule.cosine_length")
    if length:
        out["schedule.cosine_length"] = max(1, math.ceil(length * out["schedule.epochs"] / shipped))
    return out


def rehearsal_overrides(cfg: dict, setting: Setting) -> list[str]:
    """The ``--set`` values that make ``cfg`` (a resolved stage config) a rehearsal stage."""
    data_name = cfg["data"]["name"]
    if data_name not in setting.data_roots:
        raise ValueError(f"the rehearsal has no synthetic data for data.name {data_name!r}")
    batch = max(setting.batch, int(_get(cfg, "strategy.bn_splits") or 1))
    values: dict = {"data.root": str(setting.data_roots[data_name]), "data.batch_size": batch,
                    "data.train_subset": batch, "data.val_subset": setting.images, "data.workers": 0}
    values.update(compressed_schedule(cfg, setting.steps))
    official = Path(setting.shared_data) / OFFICIAL_LIST[cfg["space"]]
    values.update({"eval.archs": str(official), "eval.archs_subset": setting.archs, "eval.gt": None,
                   "eval.calib_images": setting.images, "eval.calib_batch_size": setting.images,
                   "eval.batch_size": setting.images, "eval.val_subset": setting.images})
    for key in PRODUCED_PATH_KEYS:
        value = _get(cfg, key)
        if value is not None and str(relocate(value, setting.root)) != str(value):
            values[key] = str(relocate(value, setting.root))
    return [f"{key}={_flow(value)}" for key, value in values.items()]


def full_scale(cfg: dict) -> dict:
    """What the shipped stage trains at full scale: steps, global batch, images, and the MACs of its largest arch."""
    from .proxies import model_variant
    from .spaces import get_space

    space = get_space(cfg["space"])
    batch = int(cfg["data"]["batch_size"])
    images = DATASET_IMAGES.get(cfg["data"]["name"])
    steps = int(cfg["schedule"]["epochs"]) * math.ceil(images / batch) if images else None
    macs = space.macs(space.largest(), **model_variant(cfg["model"], cfg["data"]["image_size"]))
    return {"steps": steps, "global_batch": batch, "image_size": cfg["data"]["image_size"], "largest_macs": int(macs),
            "dataset_images": images}


def make_adapter(setting: Setting):
    """``adapt(cfg, run_dir)`` for :func:`paddle_supernet.pipeline.run_chain`: the rehearsal overrides,
    the run directory under the rehearsal folder, and a record of the stage in ``setting.stages``."""
    def adapt(cfg: dict, run_dir: Path):
        run_dir = Path(relocate(run_dir, setting.root))
        setting.stages.append({"name": cfg["name"], "run_dir": str(run_dir), "space": cfg["space"],
                               "full_scale": full_scale(cfg)})
        return rehearsal_overrides(cfg, setting), run_dir
    return adapt


def gpu_hours(full: dict, seconds_per_step: float, batch_here: int, cpu_flops: float) -> float | None:
    """Estimated GPU-hours of a stage at full scale: its full-scale images x the seconds an image took
    here, scaled by the FLOP rate of this CPU (measured on the largest arch) over ``GPU_FLOPS``.

    >>> round(gpu_hours({"steps": 1000, "global_batch": 256}, 2.0, 2, 7.0e10), 2)
    0.71
    """
    if not full.get("steps"):
        return None
    images = full["steps"] * full["global_batch"]
    return images * (seconds_per_step / batch_here) * (cpu_flops / GPU_FLOPS) / 3600.0


def stage_record(run_dir: str | Path) -> dict:
    """Steps, seconds and first-step digest of a finished rehearsal stage, from its checkpoint meta."""
    from .engine.checkpoint import load_checkpoint

    meta = load_checkpoint(Path(run_dir) / "checkpoint.pdparams")["meta"]
    return {"steps": int(meta["step"]), "finished": bool(meta["finished"]),
            "train_seconds": float(meta.get("train_seconds") or 0.0),
            "batch": int(meta["config"]["data"]["batch_size"]),
            "first_step_digest": meta.get("first_step_digest")}


def write_json(path: Path, data) -> None:
    from .io.atomic import atomic_write_text

    atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True) + "\n")


BACKENDS = ("dygraph", "inference", "shared_inference")


def check_submission(path: str | Path, space_name: str, listed: dict) -> int:
    """A rehearsal submission is a valid challenge file of the space whose every key is an arch of the
    official list ``listed`` (read once) with its official code; returns how many archs it scores
    (:class:`InputError` otherwise)."""
    from .errors import InputError
    from .io.challenge_json import read_arch_file
    from .spaces import get_space

    scored = read_arch_file(path, get_space(space_name))
    for key, entry in scored.items():
        if key not in listed or listed[key].arch != entry.arch:
            raise InputError(f"{key} is not an arch of the official list with that code", file=str(path), key=key)
    return len(scored)


def score_with_backends(run_dir: Path, space_name: str, listed: dict) -> dict:
    """Score the archs of ``run_dir/submission.json`` again through every backend of :data:`BACKENDS`,
    by validation loss (``eval.score: neg_loss``: on a few images accuracies tie, losses do not);
    returns ``{backend: {key: score}}`` (each submission checked by :func:`check_submission`)."""
    from .cli import main as cli
    from .io.challenge_json import read_arch_file, write_arch_file

    archs = run_dir / "rehearsal_archs.json"
    write_arch_file(archs, read_arch_file(run_dir / "submission.json"))
    scores = {}
    for backend in BACKENDS:
        out = run_dir / f"submission.{backend}.json"
        code = cli(["evaluate", "--checkpoint", str(run_dir / "checkpoint.pdparams"), "--archs", str(archs),
                    "--out", str(out), "--set", f"eval.backend={backend}", "--set", "eval.score=neg_loss"])
        if code:
            raise RuntimeError(f"evaluate through {backend} exited {code}")
        check_submission(out, space_name, listed)
        scores[backend] = {key: entry.acc for key, entry in read_arch_file(out).items()}
    return scores


def backend_spread(scores: dict) -> float:
    """The largest difference between two backends' scores of one arch.

    >>> round(backend_spread({"dygraph": {"a": -1.0}, "inference": {"a": -1.00002}}), 8)
    2e-05
    """
    keys = set.intersection(*(set(v) for v in scores.values()))
    return max((max(v[key] for v in scores.values()) - min(v[key] for v in scores.values()) for key in keys),
               default=0.0)


def rehearse_recipe(recipe: str | Path, setting: Setting, init_from: str | None = None,
                    backends: bool = True) -> dict:
    """Run one shipped chain (or a config alone, from ``init_from``) as a rehearsal; returns a record of
    its stages (steps, seconds, first-step digest, full-scale size) and of its evaluated stages'
    submissions through every backend.

    Example:
        >>> rehearse_recipe("configs/cvpr21/chain_base.yaml", setting)      # doctest: +SKIP
    """
    from .engine.config import load_config, merge_config
    from .io.challenge_json import read_arch_file
    from .pipeline import is_chain, run_chain, train_and_evaluate
    from .spaces import get_space

    recipe = Path(recipe)
    adapt = make_adapter(setting)
    contents = yaml.safe_load(recipe.read_text(encoding="utf-8"))
    if is_chain(contents):
        results = run_chain(recipe, run_root=Path(setting.root) / "runs" / contents.get("name", recipe.stem),
                            adapt=adapt)
        evaluated = {stage: Path(trainer.run_dir) for stage, (trainer, _, _) in results.items()}
    else:
        cfg = load_config(recipe, [f"checkpoint.init_from={init_from}"] if init_from else [])
        extra, run_dir = adapt(cfg, Path(setting.root) / "runs" / "alone" / cfg["name"])
        print(f"[rehearse] run dir {run_dir}", flush=True)
        trainer, _, _ = train_and_evaluate(merge_config(cfg, extra, str(recipe)), run_dir, config_file=str(recipe))
        evaluated = {cfg["name"]: run_dir}
    record = {"recipe": str(recipe), "stages": [], "evaluated": {}}
    for stage in setting.stages:
        record["stages"].append({**stage, **stage_record(stage["run_dir"])})
    official: dict = {}  # each space's official list, read (and checked) once
    for stage, run_dir in evaluated.items():
        space = next(s["space"] for s in setting.stages if Path(s["run_dir"]) == Path(run_dir))
        if space not in official:
            official[space] = read_arch_file(Path(setting.shared_data) / OFFICIAL_LIST[space], get_space(space))
        entry = {"archs": check_submission(run_dir / "submission.json", space, official[space])}
        if backends:
            entry["scores"] = score_with_backends(Path(run_dir), space, official[space])
        record["evaluated"][stage] = entry
    return record


def cpu_flops(space_name: str, model_cfg: dict, image_size: int, batch: int, repeats: int = 3) -> float:
    """FLOP/s this machine sustains on a training step (forward + backward, 6 x MACs an image) of the
    space's largest arch at ``image_size``: the scale between a step here and one on a GPU."""
    import time

    import paddle

    from .models import build_supernet
    from .proxies import model_variant
    from .spaces import get_space

    space = get_space(space_name)
    plain = {key: value for key, value in model_cfg.items() if key not in ("contrastive", "few_shot")}
    model = build_supernet({"space": space_name, "model": plain, "seed": 0}, num_classes=100)
    model.set_active(space.largest())
    optimizer = paddle.optimizer.Momentum(0.01, parameters=model.parameters())
    images = paddle.randn([batch, 3, image_size, image_size])
    labels = paddle.zeros([batch], dtype="int64")
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        paddle.nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()
        optimizer.clear_grad()
        times.append(time.perf_counter() - start)
    macs = space.macs(space.largest(), **model_variant(model_cfg, image_size))
    return 6.0 * macs * batch / sorted(times[1:])[len(times[1:]) // 2]
