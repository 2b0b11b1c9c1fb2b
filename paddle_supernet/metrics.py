"""Ranking agreement between a submission and a ground truth.

Example:
    >>> from paddle_supernet.io.challenge_json import ArchEntry
    >>> gt = {f"arch{i}": ArchEntry(f"a{i}", i / 10) for i in range(1, 11)}
    >>> sub = {k: ArchEntry(e.arch, -e.acc) for k, e in gt.items()}
    >>> round(ranking_metrics(sub, gt)["kendall"], 3)
    -1.0
"""
from __future__ import annotations

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


def shared_keys(submission: Mapping, ground_truth: Mapping, submission_name: str = "submission",
                gt_name: str = "ground truth") -> list[str]:
    """Keys of ``ground_truth`` that ``submission`` also has, in ground-truth order.

    Refuses (``InputError``) a shared key whose arch code differs between the two.
    """
    common = [key for key in ground_truth if key in submission]
    for key in common:
        if submission[key].arch != ground_truth[key].arch:
            raise InputError(
                f"arch code differs between {submission_name} ({submission[key].arch!r}) "
                f"and {gt_name} ({ground_truth[key].arch!r})", key=key)
    return common


def ranking_metrics(submission: Mapping, ground_truth: Mapping, top_fraction: float = 0.1,
                    submission_name: str = "submission", gt_name: str = "ground truth") -> dict:
    """Pearson, Spearman, Kendall tau-b and top-10% overlap on the keys both files share.

    Both arguments map keys to :class:`~paddle_supernet.io.challenge_json.ArchEntry`.
    Refuses (``InputError``) a key whose arch code differs between the two, fewer
    than 3 shared keys, or a side whose shared scores are all equal. Returns the metrics plus ``n`` (shared keys).
    """
    common = shared_keys(submission, ground_truth, submission_name, gt_name)
    if len(common) < 3:
        raise InputError(f"{submission_name} and {gt_name} share {len(common)} keys; at least 3 are needed")
    pred = np.array([float(submission[key].acc) for key in common])
    truth = np.array([float(ground_truth[key].acc) for key in common])
    for name, values in ((submission_name, pred), (gt_name, truth)):
        if np.ptp(values) == 0:
            raise InputError(f"all {len(common)} shared scores are equal ({values[0]:g}): no ranking to compare "
                             "(an arch list given instead of a submission?)", file=name)
    result = {"n": len(common)}
    result["pearson"] = float(stats.pearsonr(pred, truth)[0])
    result["spearman"] = float(stats.spearmanr(pred, truth)[0])
    result["kendall"] = float(stats.kendalltau(pred, truth)[0])
    result["top10_overlap"] = top_k_overlap(pred, truth, top_fraction)
    return result


def partial_pearson(predicted, truth, covariates) -> float:
    """Pearson correlation of what ``covariates`` leave unexplained in each of the two.

    Both series are regressed (least squares, with an intercept) on the columns
    of ``covariates`` (shape ``(n, c)``); the result is the Pearson correlation
    of the two residuals. With log params and log MACs as covariates it tells
    how well a ranker orders archs *beyond their size*: a pure size proxy
    scores about 0 however high its plain Kendall is.

    Example:
        >>> size = np.arange(10.0)
        >>> extra = np.array([1, -1] * 5, float)
        >>> round(partial_pearson(size + extra, 2 * size + extra, size[:, None]), 6)
        1.0
    """
    predicted, truth = np.asarray(predicted, float), np.asarray(truth, float)
    design = np.column_stack([np.ones(len(truth)), np.asarray(covariates, float).reshape(len(truth), -1)])
    if len(truth) <= design.shape[1] + 1:
        raise InputError(f"partial correlation needs more than {design.shape[1] + 1} archs, got {len(truth)}")
    residuals = [y - design @ np.linalg.lstsq(design, y, rcond=None)[0] for y in (predicted, truth)]
    scale = [np.linalg.norm(r) for r in residuals]
    if min(scale) <= 1e-12 * max(1.0, np.abs(predicted).max(), np.abs(truth).max()):
        return 0.0  # one side is fully explained by the covariates: nothing beyond them to agree on
    return float(residuals[0] @ residuals[1] / (scale[0] * scale[1]))


def format_metrics_table(rows: Mapping[str, Mapping]) -> str:
    """A markdown table, one row per named result of :func:`ranking_metrics`.

    Rows that carry ``beyond_size`` (see :func:`partial_pearson`) get a last column.
    """
    extra = any("beyond_size" in m for m in rows.values())
    header = "| name | n | Kendall | Pearson | Spearman | top-10% overlap |" + (" Pearson beyond size |" if extra else "")
    lines = [header, "|---|---|---|---|---|---|" + ("---|" if extra else "")]
    for name, m in rows.items():
        line = f"| {name} | {m['n']} | {m['kendall']:.4f} | {m['pearson']:.4f} | {m['spearman']:.4f} | {m['top10_overlap']:.3f} |"
        if extra:
            line += f" {m['beyond_size']:.4f} |" if "beyond_size" in m else " - |"
        lines.append(line)
    return "\n".join(lines)
