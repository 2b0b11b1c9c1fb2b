"""Ranking agreement between a submission and a ground truth.

Example:
    >>> from paddle_supernet.io.challenge_json import ArchEntry
    >>> gt = {f"arch{i}": ArchEntry(f"a{i}", i / 10) for i in range(1, 11)}
    >>> sub = {k: ArchEntry(e.arch, -e.acc) for k, e in gt.items()}
    >>> round(ranking_metrics(sub, gt)["kendall"], 3)
    -1.0
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np
from scipy import stats

from .errors import InputError

METRIC_NAMES = ("pearson", "spearman", "kendall", "top10_overlap")


def top_k_overlap(predicted: np.ndarray, truth: np.ndarray, fraction: float = 0.1) -> float:
    """Share of the top ``fraction`` by ``truth`` that is also in the top ``fraction`` by ``predicted``.

    ``k = max(1, round(fraction * n))``; ties are broken by position.
    """
    n = len(truth)
    k = max(1, int(round(fraction * n)))
    top_truth = set(np.argsort(-np.asarray(truth), kind="stable")[:k].tolist())
    top_pred = set(np.argsort(-np.asarray(predicted), kind="stable")[:k].tolist())
    return len(top_truth & top_pred) / k


def ranking_metrics(submission: Mapping, ground_truth: Mapping, top_fraction: float = 0.1,
                    submission_name: str = "submission", gt_name: str = "ground truth") -> dict:
    """Pearson, Spearman, Kendall tau-b and top-10% overlap on the keys both files share.

    Both arguments map keys to :class:`~paddle_supernet.io.challenge_json.ArchEntry`.
    Refuses (``InputError``) a key whose arch code differs between the two, or
    fewer than 3 shared keys. Returns the metrics plus ``n`` (shared keys).
    """
    common = [key for key in ground_truth if key in submission]
    for key in common:
        if submission[key].arch != ground_truth[key].arch:
            raise InputError(
                f"arch code differs between {submission_name} ({submission[key].arch!r}) "
                f"and {gt_name} ({ground_truth[key].arch!r})", key=key)
    if len(common) < 3:
        raise InputError(f"{submission_name} and {gt_name} share {len(common)} keys; at least 3 are needed")
    pred = np.array([float(submission[key].acc) for key in common])
    truth = np.array([float(ground_truth[key].acc) for key in common])
    result = {"n": len(common)}
    if np.ptp(pred) == 0 or np.ptp(truth) == 0:
        result.update({name: math.nan for name in METRIC_NAMES[:3]})
    else:
        result["pearson"] = float(stats.pearsonr(pred, truth)[0])
        result["spearman"] = float(stats.spearmanr(pred, truth)[0])
        result["kendall"] = float(stats.kendalltau(pred, truth)[0])
    result["top10_overlap"] = top_k_overlap(pred, truth, top_fraction)
    return result


def format_metrics_table(rows: Mapping[str, Mapping]) -> str:
    """A markdown table, one row per named result of :func:`ranking_metrics`."""
    header = "| name | n | Kendall | Pearson | Spearman | top-10% overlap |"
    lines = [header, "|---|---|---|---|---|---|"]
    for name, m in rows.items():
        lines.append(f"| {name} | {m['n']} | {m['kendall']:.4f} | {m['pearson']:.4f} | {m['spearman']:.4f} | {m['top10_overlap']:.3f} |")
    return "\n".join(lines)
