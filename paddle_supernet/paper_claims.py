"""Which of a paper's orderings reproduce: each claim "row A ranks better than row B" checked on
one or more ground truths with a paired bootstrap over archs, pooled over seeds.

A claim names two rows of a paper table (their labels in a tables tool), the metric the paper
reported (Pearson or Kendall) and the paper's two figures. On a ground truth the claim is
*reproduced* when the 95% interval of A minus B lies above 0, *reversed* when it lies below 0, and
otherwise not separated (with the sign it has here).

Example:
    >>> claim = PaperClaim("APS_v3", "APS_v2", "pearson", (0.80263, 0.80141), "Table 1")
    >>> claim.paper_text()
    'Pearson 0.80263 vs 0.80141 (Table 1)'
    >>> print(claims_markdown([claim], {"APS_v3": ["v3.json"]}, [("gt", "gt.json")]))  # doctest: +SKIP
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from .bootstrap import METRICS, Difference, paired_difference
from .errors import InputError
from .io.challenge_json import read_arch_file
from .metrics import shared_keys

METRIC_TITLES = {"pearson": "Pearson", "kendall": "Kendall"}


@dataclass(frozen=True)
class PaperClaim:
    """The paper reports row ``better`` above row ``worse`` on ``metric`` (``paper``: their two figures)."""

    better: str
    worse: str
    metric: str
    paper: tuple[float, float]
    source: str

    def __post_init__(self):
        if self.metric not in METRIC_TITLES:
            raise ValueError(f"a paper claim's metric is one of {', '.join(METRIC_TITLES)}, not {self.metric!r}")

    def paper_text(self) -> str:
        return f"{METRIC_TITLES[self.metric]} {self.paper[0]} vs {self.paper[1]} ({self.source})"


def verdict(difference: Difference) -> str:
    """``reproduced`` / ``reversed`` when the interval excludes 0, else not separated with its sign."""
    if difference.low > 0:
        return "**reproduced**"
    if difference.high < 0:
        return "**reversed**"
    return f"not separated ({'same' if difference.estimate > 0 else 'opposite'} sign)"


def aligned_scores(paths: Sequence[str], truth: Mapping) -> np.ndarray:
    """One row per submission file: its scores of ``truth``'s archs in ``truth``'s order;
    :class:`InputError` naming the file when it lacks one of them or holds another code."""
    runs = []
    for path in paths:
        submission = read_arch_file(str(path))
        common = shared_keys(submission, truth, submission_name=str(path))
        if len(common) < len(truth):
            missing = next(key for key in truth if key not in submission)
            raise InputError(f"scores {len(common)} of the ground truth's {len(truth)} archs", file=str(path),
                             key=missing)
        runs.append([float(submission[key].acc) for key in truth])
    return np.asarray(runs)


def claims_markdown(claims: Sequence[PaperClaim], rows: Mapping[str, Sequence[str]],
                    truths: Sequence[tuple[str, str]], resamples: int = 2000) -> str:
    """Markdown: one line per claim, the paper's figures, then for each ``(name, path)`` of ``truths``
    the measured difference better minus worse on the claim's metric (seed means) with its 95% paired
    bootstrap interval over that truth's archs, and the verdict. ``rows``: label -> its seeds'
    submission files; a claim whose rows are not both finished is marked pending."""
    header = "| the paper's ordering | the paper | " + " | ".join(
        f"better - worse on {name} [95%] | verdict" for name, _ in truths) + " |"
    lines = [header, "|" + "---|" * (2 + 2 * len(truths))]
    loaded = [(truth, np.array([float(entry.acc) for entry in truth.values()]), {})
              for truth in (read_arch_file(str(path)) for _, path in truths)]
    for claim in claims:
        cells = []
        for truth, target, cache in loaded:
            if not rows.get(claim.better) or not rows.get(claim.worse):
                cells += ["-", "pending"]
                continue
            for label in (claim.better, claim.worse):
                if label not in cache:
                    cache[label] = aligned_scores(rows[label], truth)
            better, worse = cache[claim.better], cache[claim.worse]
            d = paired_difference(better, worse, target, METRICS[claim.metric], resamples=resamples)
            cells += [str(d), verdict(d)]
        lines.append(f"| {claim.better} > {claim.worse} | {claim.paper_text()} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
