"""Every method on one benchmark, on equal terms: run its rows for several seeds, then one table.

A row is a config (trained and scored with ``paddle-supernet run``) or a chain (``paddle-supernet
chain``, scored at its last stage), run once per seed under ``run_root/<row>_seed<S>``; both
resume and skip what is finished (a submission whose record matches is not rescored), so the
command can be killed and run again. Jobs run in ``workers`` single-threaded processes.

The table (:func:`leaderboard_markdown`) gives each row's seed mean of Kendall, Pearson, Pearson
beyond size, Kendall over the middle half of the MACs range and top-10% overlap against the
ground truth, its training wall time, and its difference from a reference row on Kendall and on
Pearson beyond size with a 95% paired bootstrap interval over archs (pooled over seeds:
:mod:`paddle_supernet.bootstrap`), saying whether the benchmark separates the two; the params
and MACs proxies and the seed-to-seed ceiling are rows too.

Example:
    >>> rows = [LeaderRow("spos", "SPOS", "configs/fmnist_r20/spos.yaml")]        # doctest: +SKIP
    >>> run_rows(rows, [0, 1, 2], Path("runs/lb"), Path("."), workers=2)             # doctest: +SKIP
"""
from __future__ import annotations

import functools
import itertools
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from .bootstrap import METRICS, metric_interval, paired_difference
from .engine.checkpoint import load_checkpoint
from .engine.progress import JobProgress
from .errors import InputError
from .io.challenge_json import read_arch_file
from .metrics import ranking_metrics
from .noise import noise_summary
from .proxies import PROXY_LABELS, PROXY_NAMES, proxy_submission
from .report import band_keys, beyond_size, space_for


@dataclass(frozen=True)
class LeaderRow:
    """``name`` (its run folder), ``label`` (its table line), ``config`` (a run config, or a chain YAML whose
    file name starts with ``chain``) and ``note`` (e.g. "our reading of the paper")."""

    name: str
    label: str
    config: str
    note: str = ""

    @property
    def is_chain(self) -> bool:
        return Path(self.config).name.startswith("chain")

    def run_dir(self, run_root: Path, seed: int) -> Path:
        return run_root / f"{self.name}_seed{seed}"

    def last_stage_dir(self, run_root: Path, seed: int, repo: Path) -> Path:
        """Where the row's submission is: the run folder, or a chain's last evaluated stage."""
        if not self.is_chain:
            return self.run_dir(run_root, seed)
        return self.run_dir(run_root, seed) / _chain(repo / self.config)["evaluate"][-1]

    def stage_dirs(self, run_root: Path, seed: int, repo: Path) -> list[Path]:
        """Where each stage's checkpoint is (a stage with its own ``run_dir`` there)."""
        if not self.is_chain:
            return [self.run_dir(run_root, seed)]
        return [repo / stage["run_dir"] if stage.get("run_dir") else self.run_dir(run_root, seed) / stage["name"]
                for stage in _chain(repo / self.config)["stages"]]

    def submission(self, run_root: Path, seed: int, repo: Path) -> Path:
        return self.last_stage_dir(run_root, seed, repo) / "submission.json"

    def kept(self, kept: Path, seed: int) -> Path:
        """Where :func:`keep_row` keeps the row's submission (its training seconds beside it, ``.seconds``)."""
        return kept / f"{self.name}_seed{seed}.json"

    def command(self, run_root: Path, seed: int, python: str = sys.executable) -> list[str]:
        if self.is_chain:
            return [python, "-m", "paddle_supernet", "chain", "--chain", self.config, "--set", f"seed={seed}",
                    "--run-root", str(self.run_dir(run_root, seed))]
        return [python, "-m", "paddle_supernet", "run", "--config", self.config, "--set", f"seed={seed}",
                "--run-dir", str(self.run_dir(run_root, seed))]


@functools.lru_cache(maxsize=None)
def _chain(path: Path) -> dict:
    """A chain file's YAML, read once."""
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


def run_rows(rows: list[LeaderRow], seeds: list[int], run_root: Path, repo: Path, workers: int = 2,
             extra_args: list[str] | None = None, kept: Path | None = None) -> list[tuple[str, int, int]]:
    """Run every (row, seed) not finished yet in ``workers`` single-threaded, niced processes, seed-major
    (every row's first seed before any second seed, so a partial run already fills the table);
    returns ``(row, seed, exit code)`` of the jobs run. Logs: ``run_root/<row>_seed<S>.log``. With
    ``kept``, each job is kept there (:func:`keep_row`) as soon as it finishes, and a job kept there
    is finished: run folders are not committed, so this is what a fresh checkout resumes from."""
    run_root.mkdir(parents=True, exist_ok=True)

    def finished(row: LeaderRow, seed: int) -> bool:
        if row.submission(run_root, seed, repo).exists():
            if kept is not None:
                keep_row(row, seed, run_root, repo, kept)
            return True
        return kept is not None and row.kept(kept, seed).exists()

    every = list(itertools.product(seeds, rows))
    jobs = [(row, seed) for seed, row in every if not finished(row, seed)]
    progress = JobProgress("leaderboard", len(every), done=len(every) - len(jobs))  # the kept ones are done

    def run(job):
        row, seed = job
        with open(run_root / f"{row.name}_seed{seed}.log", "a") as log:
            code = subprocess.call(["nice", "-n", "10", *row.command(run_root, seed), *(extra_args or [])], cwd=repo,
                                   stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "OMP_NUM_THREADS": "1"})
        if code == 0 and kept is not None:
            keep_row(row, seed, run_root, repo, kept)
        progress.ended(f"{row.name} seed {seed}", code)
        return row.name, seed, code

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, jobs))


def keep_row(row: LeaderRow, seed: int, run_root: Path, repo: Path, kept: Path) -> None:
    """Copy a finished row's submission to ``row.kept(kept, seed)`` (byte for byte, atomically, only when
    changed) and write its training seconds beside it (``.seconds``, when its checkpoints say)."""
    from .io.atomic import atomic_write_text, copy_if_changed

    kept.mkdir(parents=True, exist_ok=True)
    target = row.kept(kept, seed)
    copy_if_changed(row.submission(run_root, seed, repo), target)
    seconds = train_seconds(row, run_root, seed, repo)
    if seconds is not None:
        atomic_write_text(target.with_suffix(".seconds"), f"{seconds:.1f}\n")


def train_seconds(row: LeaderRow, run_root: Path, seed: int, repo: Path) -> float | None:
    """Training wall time of a finished row and seed: the sum over its stages (checkpoint meta)."""
    total = 0.0
    for folder in row.stage_dirs(run_root, seed, repo):
        path = folder / "checkpoint.pdparams"
        if not path.exists():
            return None
        seconds = load_checkpoint(path)["meta"].get("train_seconds")
        if seconds is None:
            return None
        total += float(seconds)
    return total


def _scores(submission: Mapping, keys: list[str]) -> np.ndarray:
    return np.array([float(submission[key].acc) for key in keys])


def _rankers(rows: Mapping[str, list[str]], gt_path: str, space_name: str, num_classes: int,
             variant: Mapping | None) -> tuple:
    """(space, gt, keys, truth, log-size covariates, {label: (seeds, archs) scores}), the size proxies among them."""
    variant = dict(variant or {})
    space = space_for(space_name, num_classes)
    gt = read_arch_file(gt_path, space)
    keys = list(gt)
    covariates = np.log([[space.params(gt[k].arch, **variant), space.macs(gt[k].arch, **variant)] for k in keys])
    runs = {label: np.stack([_scores(read_arch_file(p, space), keys) for p in paths]) for label, paths in rows.items()}
    for proxy, label in PROXY_LABELS.items():
        runs[label] = _scores(proxy_submission(space, gt, proxy, **variant), keys)[None]
    return space, gt, keys, _scores(gt, keys), covariates, runs


def leaderboard_markdown(rows: Mapping[str, list[str]], gt_path: str, seed_paths: list[str], space_name: str,
                         num_classes: int, reference: str, seconds: Mapping[str, list[float]] | None = None,
                         notes: Mapping[str, str] | None = None, resamples: int = 2000,
                         variant: Mapping | None = None) -> str:
    """The table: ``rows`` maps a label to its seeds' submission files; ``reference`` is the label every
    row is compared with (its differences' 95% paired bootstrap intervals over archs)."""
    space, gt, keys, truth, covariates, runs = _rankers(rows, gt_path, space_name, num_classes, variant)
    variant = dict(variant or {})
    middle = set(band_keys(gt, space, 0.25, 0.75, variant=variant))
    if reference not in runs:
        raise InputError(f"the reference row {reference!r} has no finished submission yet")
    seeds = [_scores(read_arch_file(p, space), keys) for p in seed_paths]
    noise = noise_summary(*seeds) if len(seeds) >= 2 else None

    def metrics(scores: np.ndarray) -> dict:
        sub = {k: type(gt[k])(gt[k].arch, float(v)) for k, v in zip(keys, scores)}
        m = ranking_metrics(sub, gt)
        mid = ranking_metrics({k: sub[k] for k in middle}, {k: gt[k] for k in middle})
        return {"kendall": m["kendall"], "pearson": m["pearson"], "beyond": beyond_size(sub, gt, space, variant),
                "mid": mid["kendall"], "top10": m["top10_overlap"]}

    header = ("| row | seeds | Kendall | Pearson | Pearson beyond size | Kendall, middle half | top-10% overlap | "
              f"train min | Kendall - {reference} [95%] | beyond size - {reference} [95%] | separated |")
    lines = [header, "|" + "---|" * 11]
    for label, scores in runs.items():
        per_seed = [metrics(s) for s in scores]
        mean = {m: float(np.mean([p[m] for p in per_seed])) for m in per_seed[0]}
        spread = {m: float(np.ptp([p[m] for p in per_seed]) / 2) for m in per_seed[0]}
        cells = [f"{mean[m]:.3f}" + (f" ± {spread[m]:.3f}" if len(per_seed) > 1 else "")
                 for m in ("kendall", "pearson", "beyond", "mid", "top10")]
        secs = (seconds or {}).get(label)
        minutes = f"{np.mean(secs) / 60:.1f}" if secs else "-"
        if label == reference:
            diffs, separated = ["(reference)", "(reference)"], "-"
        else:
            d = [paired_difference(scores, runs[reference], truth, METRICS[m], covariates, resamples=resamples)
                 for m in ("kendall", "beyond_size")]
            diffs = [str(x) for x in d]
            separated = ", ".join(f"{name} {'better' if x.low > 0 else 'worse'}" for name, x in
                                  zip(("Kendall", "beyond size"), d) if x.separated) or "no"
        name = label + (f" ({notes[label]})" if notes and notes.get(label) else "")
        lines.append(f"| {name} | {len(scores) if label in rows else '-'} | " + " | ".join(cells)
                     + f" | {minutes} | {diffs[0]} | {diffs[1]} | {separated} |")
    if noise is not None:
        lines.append(f"| seed-to-seed ceiling (mean over {len(seeds) * (len(seeds) - 1) // 2} pairs of ground-truth "
                     f"seeds) | - | {noise['kendall']:.3f} | {noise['pearson']:.3f} | - | - | - | - | - | - | - |")
        lines.append(f"| noise ceiling: a ranker that knew the true accuracies, against this {len(seeds)}-seed mean "
                     f"(`paddle-supernet noise`; 95% over archs "
                     f"[{noise['perfect_ranker_kendall_95'][0]:.3f}, {noise['perfect_ranker_kendall_95'][1]:.3f}]) "
                     f"| - | {noise['perfect_ranker_kendall']:.3f} | "
                     f"{np.sqrt(noise['mean_reliability']):.3f} | - | - | - | - | - | - | - |")
    return "\n".join(lines)


def proxy_markdown(rows: Mapping[str, list[str]], gt_path: str, space_name: str, num_classes: int,
                   resamples: int = 2000, variant: Mapping | None = None) -> str:
    """Markdown: each row of ``rows`` (label -> its seeds' submissions) against size: its Pearson beyond
    size with a 95% bootstrap interval over archs (0 is what size alone gives), and its differences from
    the two size proxies on Kendall and on Pearson beyond size with 95% paired bootstrap intervals (pooled
    over the row's seeds), saying which of them the benchmark separates. Does a method rank better than
    counting parameters or MACs, and does it know more than size?

    Example:
        >>> print(proxy_markdown({"SPOS": ["spos0.json", "spos1.json"]}, "gt.json", "cvpr21_resnet20", 10))  # doctest: +SKIP
    """
    _, _, _, truth, covariates, runs = _rankers(rows, gt_path, space_name, num_classes, variant)
    pairs = [(metric, name, PROXY_LABELS[proxy], short)
             for metric, name in (("kendall", "Kendall"), ("beyond_size", "beyond size"))
             for proxy, short in PROXY_NAMES.items()]
    lines = ["| row | beyond size [95%] | " + " | ".join(f"{name} - {label} [95%]" for _, name, label, _ in pairs)
             + " | separated |", "|" + "---|" * (len(pairs) + 3)]
    for row in rows:
        own = metric_interval(runs[row], truth, METRICS["beyond_size"], covariates, resamples=resamples)
        diffs = [paired_difference(runs[row], runs[label], truth, METRICS[metric], covariates, resamples=resamples)
                 for metric, _, label, _ in pairs]
        separated = ([f"beyond size {'above' if own.low > 0 else 'below'} 0"] if own.separated else []) + [
            f"{name} {'better' if d.low > 0 else 'worse'} than {short}"
            for (_, name, _, short), d in zip(pairs, diffs) if d.separated]
        lines.append(f"| {row} | {own} | " + " | ".join(str(d) for d in diffs) + f" | {', '.join(separated) or 'no'} |")
    return "\n".join(lines)
