"""Paper tables at small scale, as markdown: rows of (chain, stage) submissions, mean and spread over
seeds, each row against a reference row and an anchor, on the ground truth and a second truth, and
which of the paper's orderings reproduce; one section per group in the tables file.

Each row is a submission produced by ``chain`` runs of several seeds; its
metrics against the ground truth are averaged over the seeds and the spread
(half the max-min range) is shown. The params/MACs proxies and the
seed-to-seed ceiling are always added. Running the chains is :mod:`paddle_supernet.table_runs`.

Example:
    >>> rows = {"base, stage 1": ["runs/s0/stage1/submission.json", "runs/s1/stage1/submission.json"]}  # doctest: +SKIP
    >>> print(seed_table(rows, "gt.json", ["gt.seed0.json", "gt.seed1.json"], "cvpr21_resnet20", 10))  # doctest: +SKIP
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Collection, Mapping

import numpy as np

from .errors import InputError
from .io.challenge_json import read_arch_file
from .metrics import METRIC_NAMES, ranking_metrics
from .report import beyond_size, only_keys, report_rows, space_for
from .table_bench import TABLE_BENCH_FILE, TableBench, TableRow, bench_truths


def seed_rows(rows: Mapping[str, list[str]], gt_path: str, keys: Collection[str] | None = None,
              space=None, variant: Mapping | None = None) -> dict:
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
                per_seed[-1]["beyond_size"] = beyond_size(sub, gt, space, variant)
        out[name] = {m: (float(np.mean([r[m] for r in per_seed])), float(np.ptp([r[m] for r in per_seed]) / 2))
                     for m in names}
        out[name]["n_seeds"] = len(paths)
    return out


def seed_table(rows: Mapping[str, list[str]], gt_path: str, seed_paths: list[str], space_name: str,
               num_classes: int | None = None, keys: Collection[str] | None = None,
               variant: Mapping | None = None) -> str:
    """Markdown: one line per row (mean +- spread over seeds), then the proxy and ceiling lines.

    ``keys`` restricts every line to those archs (e.g. :func:`~paddle_supernet.report.band_keys`);
    ``variant`` counts sizes on the network actually trained (e.g. the small-image ResNet48).
    """
    columns = ("kendall", "pearson", "spearman", "top10_overlap", "beyond_size")
    lines = ["| row | seeds | Kendall | Pearson | Spearman | top-10% overlap | Pearson beyond size |",
             "|---|---|---|---|---|---|---|"]
    space = space_for(space_name, num_classes)
    for name, m in seed_rows(rows, gt_path, keys, space, variant).items():
        cells = " | ".join(f"{m[k][0]:.4f} ± {m[k][1]:.4f}" for k in columns)
        lines.append(f"| {name} | {m['n_seeds']} | {cells} |")
    baselines, _ = report_rows(gt_path, seed_paths, {}, space_name, num_classes, keys, variant)
    for name, m in baselines.items():
        cells = " | ".join(f"{m[k]:.4f}" for k in columns)
        lines.append(f"| {name} | - | {cells} |")
    return "\n".join(lines)


def section_mark(group: str) -> str:
    return f"<!-- section: {group} -->"


def read_sections(path: Path, groups: list[str], legacy: Callable[[str], str] | None = None) -> dict:
    """The group sections of an existing tables file; ``legacy`` turns a file without marks into
    one section (returned under ``groups[0]``)."""
    if not path.exists():
        return {}
    text = path.read_text(encoding="utf-8")
    sections, current, lines = {}, None, []
    for line in text.splitlines():
        group = next((g for g in groups if line == section_mark(g)), None)
        if group:
            if current:
                sections[current] = "\n".join(lines).rstrip("\n") + "\n"
            current, lines = group, [line]
        elif current:
            lines.append(line)
    if current:
        sections[current] = "\n".join(lines).rstrip("\n") + "\n"
    if not sections and legacy is not None:
        sections[groups[0]] = legacy(text)
    return sections


def write_sections(path: Path, heading: str, groups: list[str], sections: dict) -> None:
    """Write ``path`` atomically: the heading, then the sections in ``groups`` order."""
    from .io.atomic import atomic_write_text

    atomic_write_text(path, "\n".join([heading, ""] + [sections[g] for g in groups if g in sections]))


def group_section(group: str, title: str, rows: list[TableRow], seeds: list[int], kept: Path, bench: TableBench,
                  tool: str, space: str, num_classes: int, reference: str | None = None,
                  anchor: tuple[str, str] | None = None, resamples: int = 2000,
                  claims: list | None = None) -> str:
    """The markdown section of one group (see :func:`run_table_main`), from the submissions kept in ``kept``
    (:func:`keep_submissions`), so it can be written again without the runs. With ``reference`` finished,
    one table gives every row's seed means, middle-half Kendall and its difference from the reference
    with a 95% paired bootstrap interval (:func:`~paddle_supernet.leaderboard.leaderboard_markdown`),
    then each row's agreement with ``anchor`` (label, submission) when that is scored; otherwise the
    rows' mean +- spread over all archs and over the middle half of the MACs range. ``claims``
    (:class:`~paddle_supernet.paper_claims.PaperClaim`) add which of the paper's orderings reproduce, on
    the ground truth and on the ``second_truth``."""
    from .report import band_keys

    finished = {row.label: [str(path) for path in (row.kept(kept, s) for s in seeds) if path.exists()]
                for row in rows}
    submissions = {label: paths for label, paths in finished.items() if paths}
    pending = [label for label, paths in finished.items() if len(paths) < len(seeds)]
    if not submissions:
        raise InputError(f"no row of group {group} has a finished submission kept under {kept} yet")
    folder, variant = bench.folder, bench.variant
    gt_path, seed_paths = str(folder / "gt.json"), [str(folder / "gt.seed0.json"), str(folder / "gt.seed1.json")]
    gt = read_arch_file(gt_path)
    middle = band_keys(gt, space_for(space, num_classes), 0.25, 0.75, variant=variant)
    lines = [section_mark(group), f"## {title}", "",
             f"Seeds {seeds}; each cell is the mean ± half the range over the seeds. Written by "
             f"`tools/{tool}.py --group {group} --bench {folder.name}`"
             + (f"; every stage but the shared ones ran with `{' '.join(bench.overrides)}`." if bench.overrides
                else "."), "",
             *([f"Not finished yet (rows shown with the seeds done so far, or left out): {'; '.join(pending)}.", ""]
               if pending else [])]
    if reference is not None and reference in submissions:
        from .leaderboard import leaderboard_markdown

        scored_anchor = anchor if anchor and Path(anchor[1]).exists() else None
        table_rows = {**submissions, **({scored_anchor[0]: [scored_anchor[1]]} if scored_anchor else {})}
        lines += [f"All {len(gt)} archs; the middle half of the MACs range is {len(middle)} archs of similar size. "
                  f"Differences from the {reference} row: 95% paired bootstrap over archs, pooled over seeds.", "",
                  leaderboard_markdown(table_rows, gt_path, seed_paths, space, num_classes, reference,
                                       resamples=resamples, variant=variant), ""]
        if bench.second_truth:
            lines += second_truth_lines(bench, gt, table_rows, space, num_classes, reference, resamples)
        if scored_anchor:
            lines += [f"How far each row moved from the {scored_anchor[0]} (Kendall of its scores with that row's, "
                      "per seed):", "", anchor_agreement(submissions, scored_anchor[1]), ""]
        return "\n".join(lines + claim_lines(claims, submissions, bench, num_classes, resamples))
    if reference is not None:
        lines += [f"(The differences from the {reference} row appear once it is finished.)", ""]
    return "\n".join(lines + [
        f"All {len(gt)} archs:", "", seed_table(submissions, gt_path, seed_paths, space, num_classes, variant=variant), "",
        f"The {len(middle)} archs in the middle half of the MACs range (similar sizes):", "",
        seed_table(submissions, gt_path, seed_paths, space, num_classes, middle, variant), ""]
        + claim_lines(claims, submissions, bench, num_classes, resamples))


def claim_lines(claims: list | None, rows: Mapping[str, list[str]], bench: TableBench, num_classes: int,
                resamples: int = 2000) -> list[str]:
    """Markdown lines: which of the paper's ``claims`` reproduce on the benchmark's truths (its ground
    truth and, when its file is here, its ``second_truth``: :func:`~paddle_supernet.table_bench.bench_truths`;
    :func:`~paddle_supernet.paper_claims.claims_markdown`)."""
    if not claims:
        return []
    from .paper_claims import claims_markdown

    truths = [(truth["name"], str(truth["path"])) for truth in bench_truths(bench, num_classes)]
    return ["### The paper's orderings", "",
            "Each ordering the paper reports between two of these rows, on the paper's metric: the difference "
            "better minus worse here (seed means), with a 95% paired bootstrap interval over archs, pooled over "
            "seeds. Reproduced or reversed: the interval excludes 0; otherwise the benchmark does not separate "
            "the two rows.", "", claims_markdown(claims, rows, truths, resamples), ""]


def second_truth_lines(bench: TableBench, gt: Mapping, rows: Mapping[str, list[str]], space: str, num_classes: int,
                       reference: str, resamples: int = 2000) -> list[str]:
    """Markdown lines comparing ``rows`` (label -> submissions) on the benchmark's ``second_truth``, the
    table of :func:`~paddle_supernet.leaderboard.leaderboard_markdown` over the archs that truth holds
    (all of them must be archs of the benchmark's ground truth ``gt``); a line saying so when its file
    is absent."""
    from .leaderboard import leaderboard_markdown

    second = bench.second_truth
    path = bench.folder / second["path"]
    if not path.exists():
        return [f"(The comparison with {second['label']} is left out: `{second['path']}` is not here.)", ""]
    truth = read_arch_file(str(path))
    foreign = sorted(key for key, entry in truth.items() if key not in gt or gt[key].arch != entry.arch)
    if foreign:
        raise InputError(f"holds {len(foreign)} archs the benchmark does not (e.g. {foreign[0]}: a key it lacks, "
                         "or another arch under that key)",
                         file=str(bench.folder / TABLE_BENCH_FILE), key="second_truth.path")
    classes = second.get("num_classes", num_classes)
    network = ", ".join([f"{classes} classes", *(f"{k} {v}" for k, v in (second.get("variant") or {}).items())])
    return [f"### Against {second['label']}", "",
            f"The same submissions over the {len(truth)} archs that `{Path(second['path']).name}` holds; "
            f"sizes (the proxies, 'beyond size') are counted on the network that truth trained ({network}). "
            f"Differences from the {reference} row: 95% paired bootstrap over these archs, pooled over seeds.",
            "", leaderboard_markdown(rows, str(path), [], space, classes, reference, resamples=resamples,
                                     variant=second.get("variant")), ""]


def anchor_agreement(rows: Mapping[str, list[str]], anchor_path: str) -> str:
    """Markdown: for each row, the Kendall of each seed's scores with the scores in ``anchor_path``
    (e.g. the pretrained network every chain starts from: near 1 means the row barely moved)."""
    anchor = read_arch_file(anchor_path)
    lines = ["| row | Kendall with it, per seed |", "|---|---|"]
    for label, paths in rows.items():
        values = [ranking_metrics(read_arch_file(p), anchor, submission_name=p, gt_name=anchor_path)["kendall"]
                  for p in paths]
        lines.append(f"| {label} | {', '.join(f'{v:.3f}' for v in values)} |")
    return "\n".join(lines)
