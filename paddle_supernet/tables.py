"""Paper tables at small scale: rows of (chain, stage) submissions, mean and spread over seeds.

Each row is a submission produced by ``chain`` runs of several seeds; its
metrics against the ground truth are averaged over the seeds and the spread
(half the max-min range) is shown. The params/MACs proxies and the
seed-to-seed ceiling are always added.

Example:
    >>> rows = {"base, stage 1": ["runs/s0/stage1/submission.json", "runs/s1/stage1/submission.json"]}  # doctest: +SKIP
    >>> print(seed_table(rows, "gt.json", ["gt.seed0.json", "gt.seed1.json"], "cvpr21_resnet20", 10))  # doctest: +SKIP
"""
from __future__ import annotations

from typing import Collection, Mapping

import numpy as np

from .io.challenge_json import read_arch_file
from .metrics import METRIC_NAMES, ranking_metrics
from .report import beyond_size, only_keys, report_rows, space_for


def seed_rows(rows: Mapping[str, list[str]], gt_path: str, keys: Collection[str] | None = None,
              space=None) -> dict:
    """``{row name: {metric: (mean, spread)}}`` over the seeds' submission files.

    ``keys``: only those archs; ``space``: also ``beyond_size`` (see :func:`~paddle_supernet.report.beyond_size`).
    """
    gt = only_keys(read_arch_file(gt_path), keys)
    names = METRIC_NAMES + (("beyond_size",) if space is not None else ())
    out = {}
    for name, paths in rows.items():
        per_seed = []
        for path in paths:
            sub = read_arch_file(path)
            per_seed.append(ranking_metrics(sub, gt, submission_name=path, gt_name=gt_path))
            if space is not None:
                per_seed[-1]["beyond_size"] = beyond_size(sub, gt, space)
        out[name] = {m: (float(np.mean([r[m] for r in per_seed])), float(np.ptp([r[m] for r in per_seed]) / 2))
                     for m in names}
        out[name]["n_seeds"] = len(paths)
    return out


def seed_table(rows: Mapping[str, list[str]], gt_path: str, seed_paths: list[str], space_name: str,
               num_classes: int | None = None, keys: Collection[str] | None = None) -> str:
    """Markdown: one line per row (mean +- spread over seeds), then the proxy and ceiling lines.

    ``keys`` restricts every line to those archs (e.g. :func:`~paddle_supernet.report.band_keys`).
    """
    columns = ("kendall", "pearson", "spearman", "top10_overlap", "beyond_size")
    lines = ["| row | seeds | Kendall | Pearson | Spearman | top-10% overlap | Pearson beyond size |",
             "|---|---|---|---|---|---|---|"]
    space = space_for(space_name, num_classes)
    for name, m in seed_rows(rows, gt_path, keys, space).items():
        cells = " | ".join(f"{m[k][0]:.4f} ± {m[k][1]:.4f}" for k in columns)
        lines.append(f"| {name} | {m['n_seeds']} | {cells} |")
    baselines, _ = report_rows(gt_path, seed_paths, {}, space_name, num_classes, keys)
    for name, m in baselines.items():
        cells = " | ".join(f"{m[k]:.4f}" for k in columns)
        lines.append(f"| {name} | - | {cells} |")
    return "\n".join(lines)
