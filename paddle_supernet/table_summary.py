"""One compact table of every row of a paper-tables tool's groups, for a front page: each row's
Kendall (seed mean) on the benchmark's ground truth and on its second truth, each with the
difference from the reference row and its 95% paired bootstrap interval over archs.

Example:
    >>> print(summary_markdown(rows, "official baseline", truths, "cvpr22_resnet48"))  # doctest: +SKIP
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from .bootstrap import kendall, paired_difference
from .io.challenge_json import read_arch_file
from .paper_claims import aligned_scores
from .proxies import PROXY_LABELS, proxy_submission
from .report import space_for


def summary_markdown(rows: Mapping[str, Sequence[str]], reference: str, truths: Sequence[Mapping],
                     space_name: str, resamples: int = 2000) -> str:
    """Markdown: one line per row of ``rows`` (label -> its seeds' submission files; a row with none yet
    is left out), then the params and MACs proxies; for each truth of ``truths`` (mappings with
    ``name``, ``path``, ``num_classes`` and ``variant``, the network its sizes are counted on) the row's
    Kendall and its difference from ``reference`` with a 95% paired bootstrap interval over that
    truth's archs (bold: separated)."""
    header = "| row | seeds | " + " | ".join(f"Kendall on {t['name']} | - {reference} [95%]" for t in truths) + " |"
    lines = [header, "|" + "---|" * (2 + 2 * len(truths))]
    finished = {label: list(paths) for label, paths in rows.items() if paths}
    columns = []
    for truth in truths:
        gt = read_arch_file(str(truth["path"]))
        target = np.array([float(entry.acc) for entry in gt.values()])
        space = space_for(space_name, truth.get("num_classes"))
        scores = {label: aligned_scores(paths, gt) for label, paths in finished.items()}
        for proxy, label in PROXY_LABELS.items():
            sub = proxy_submission(space, gt, proxy, **dict(truth.get("variant") or {}))
            scores[label] = np.array([[float(sub[key].acc) for key in gt]])
        cells = {}
        for label, runs in scores.items():
            value = float(np.mean([kendall(run, target) for run in runs]))
            if label == reference or reference not in scores:
                cells[label] = (f"{value:.3f}", "(reference)" if label == reference else "-")
                continue
            d = paired_difference(runs, scores[reference], target, kendall, resamples=resamples)
            cells[label] = (f"{value:.3f}", f"**{d}**" if d.separated else str(d))
        columns.append(cells)
    for label in [*finished, *PROXY_LABELS.values()]:
        seeds = str(len(finished[label])) if label in finished else "-"
        lines.append(f"| {label} | {seeds} | " + " | ".join(" | ".join(cells[label]) for cells in columns) + " |")
    return "\n".join(lines)

