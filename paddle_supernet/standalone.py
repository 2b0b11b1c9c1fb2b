"""Stand-alone training of listed archs: the ground truth a supernet's ranking is judged against.

Each (arch, seed) is trained from scratch as a plain network (official
shortcut rule) with the config's recipe, through the same loop as supernets,
and scored on the validation data. Finished runs are appended to
``<out>.runs.jsonl``; a killed job skips them when restarted. Outputs:
``<out>`` (mean accuracy over seeds, challenge format), ``<out stem>.seed<S>.json``
per seed, and the runs log (accuracy, loss and seconds of every run). Every finished
run is also a VisualDL scalar (``vdl_dir``; the command line's default is
:func:`default_vdl_dir`, off with the recipe's ``log.visualdl: false`` unless a folder is given).

Example:
    $ paddle-supernet standalone --config benchmarks/fmnist-r20/recipe.yaml \
        --archs benchmarks/fmnist-r20/archs.json --out gt.json --seeds 0 1 --workers 2
"""
from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Mapping

import numpy as np

from .errors import InputError
from .io.challenge_json import ArchEntry, with_scores, write_arch_file
from .io.result_log import ResultLog
from .quiet_import import quiet_paddle_import

_WORKER: dict = {}


def seed_path(out: Path, seed: int) -> Path:
    """``gt.json``, seed 1 -> ``gt.seed1.json``."""
    return out.with_name(f"{out.stem}.seed{seed}{out.suffix}")


def runs_log_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}.runs.jsonl")


def default_vdl_dir(out: str | os.PathLike) -> Path:
    """Where ``standalone`` logs to VisualDL unless told otherwise: under ``runs/``, never beside a
    committed ground truth. ``benchmarks/fmnist-r20/gt.json`` -> ``runs/standalone/fmnist-r20-gt/vdl``."""
    out = Path(out)
    return Path("runs") / "standalone" / f"{out.resolve().parent.name}-{out.stem}" / "vdl"


def train_one(cfg: dict, code: str, seed: int, data, val_batches: list) -> dict:
    """Train ``code`` from scratch with ``seed`` on ``data``; score on ``val_batches`` (prepared once).

    Returns accuracy, loss and seconds.
    """
    from .engine.trainer import Trainer
    from .evaluator import accuracy_and_loss
    from .models import build_standalone
    from .strategies.single import PlainStep

    start = time.perf_counter()
    run_cfg = {**cfg, "seed": seed}
    model = build_standalone(run_cfg, code, data[0].num_classes, seed)
    Trainer(run_cfg, None, data=data, model=model, strategy=PlainStep(), quiet=True).fit()
    acc, loss = accuracy_and_loss(model, val_batches)
    return {"acc": acc, "loss": loss, "seconds": round(time.perf_counter() - start, 2)}


def _init_worker(cfg: dict) -> None:
    """Load the data and build the validation tensors once per worker process."""
    quiet_paddle_import()  # a spawned worker imports Paddle afresh, without the command line's guard
    from .data import load_dataset
    from .plugins import import_modules

    import_modules(cfg.get("custom_imports"))  # a spawned worker registers the config's own space again
    _WORKER["cfg"] = cfg
    _WORKER["data"] = load_dataset(cfg["data"])
    _WORKER["val_batches"] = _WORKER["data"][1].eval_batches(cfg["eval"]["batch_size"])


def _run_job(job: tuple) -> dict:
    key, code, seed = job
    w = _WORKER
    return {"key": key, "arch": code, "seed": seed, **train_one(w["cfg"], code, seed, w["data"], w["val_batches"])}


def run_standalone(cfg: dict, arch_list: Mapping[str, ArchEntry], out: str | os.PathLike, seeds: list[int],
                   workers: int = 1, every_seconds: float = 30.0, vdl_dir: str | os.PathLike | None = None) -> dict:
    """Train every (arch, seed) not yet in the runs log, then write the result files. Returns mean accuracies.
    With ``vdl_dir``, each finished run's accuracy (tag ``acc/seed<S>``, step: the arch's place in the list)
    and seconds (``seconds``, step: runs done) go to VisualDL there."""
    from .engine.progress import Progress, ScalarLog

    from .models import build_standalone

    out = Path(out)
    build_standalone(cfg, next(iter(arch_list.values())).arch, 10, 0)  # refuses supernet-only options up front
    log = ResultLog(runs_log_path(out))
    done = {}
    for number, row in enumerate(log.rows(), start=1):
        key = row.get("key")
        if key not in arch_list or arch_list[key].arch != row.get("arch"):
            raise InputError(f"line {number}: {key} is not in this arch list; use another --out", file=str(log.path))
        done[(key, row["seed"])] = row
    # arch-major: both seeds of an arch before the next, so a partial log already measures seed noise
    jobs = [(key, entry.arch, seed) for key, entry in arch_list.items() for seed in seeds if (key, seed) not in done]
    total = len(arch_list) * len(seeds)
    print(f"[standalone] {total - len(jobs)} of {total} runs already done; {len(jobs)} to train with {workers} worker(s)",
          flush=True)
    progress = Progress("standalone", total, start=total - len(jobs), every_seconds=every_seconds, unit="run",
                        per="h")
    place = {key: number for number, key in enumerate(arch_list)}
    if jobs:
        with contextlib.ExitStack() as stack:
            scalars = ScalarLog(vdl_dir or "", enabled=vdl_dir is not None)
            stack.callback(scalars.close)
            if workers > 1:  # a dead worker raises BrokenProcessPool (a multiprocessing Pool would wait forever)
                pool = ProcessPoolExecutor(workers, mp.get_context("spawn"), _init_worker, (cfg,))
                # on any error the queued runs are dropped (the runs log keeps the finished ones)
                stack.callback(pool.shutdown, wait=True, cancel_futures=True)
                rows = (future.result() for future in as_completed([pool.submit(_run_job, job) for job in jobs]))
            else:
                _init_worker(cfg)
                rows = map(_run_job, jobs)
            try:
                for row in rows:  # the single writer of the runs log
                    log.append(row)
                    done[(row["key"], row["seed"])] = row
                    progress.update(len(done), acc=row["acc"])
                    scalars.add(f"acc/seed{row['seed']}", row["acc"], place[row["key"]])
                    scalars.add("seconds", row["seconds"], len(done))
            except BrokenProcessPool as error:
                raise RuntimeError(f"a standalone worker process died ({error}); the {len(done)} finished runs are "
                                   f"in {log.path}: run the same command again to resume") from None
    per_seed = {seed: {key: done[(key, seed)]["acc"] for key in arch_list} for seed in seeds}
    for seed, scores in per_seed.items():
        write_arch_file(seed_path(out, seed), with_scores(arch_list, scores))
    mean = {key: float(np.mean([per_seed[s][key] for s in seeds])) for key in arch_list}
    write_arch_file(out, with_scores(arch_list, mean))
    return mean
