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

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Collection, Mapping

import numpy as np

from .errors import InputError
from .io.challenge_json import read_arch_file
from .metrics import METRIC_NAMES, ranking_metrics
from .report import beyond_size, only_keys, report_rows, space_for


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


# ---- running the chains of a table and keeping its file's sections -----------------------------
@dataclass(frozen=True)
class TableRow:
    """One row of a paper table: ``stage`` of ``chain`` (a chain YAML, relative to the repository),
    run under ``run_dir`` (a name with ``{seed}``, inside the table's run root)."""

    label: str
    chain: str
    run_dir: str
    stage: str

    def submission(self, run_root: Path, seed: int) -> str:
        return str(run_root / self.run_dir.format(seed=seed) / self.stage / "submission.json")

    def kept(self, kept: Path, seed: int) -> Path:
        """Where :func:`keep_submissions` keeps the row's submission beside the benchmark (committed:
        a fresh checkout resumes from it and the tables are written from it)."""
        return kept / self.run_dir.format(seed=seed) / f"{self.stage}.json"


@dataclass(frozen=True)
class TableBench:
    """Where a paper table is measured and how its chains run there: ``folder`` holds gt.json,
    gt.seed0.json and gt.seed1.json (the tables file is written there); ``run_root`` is the runs'
    folder (relative to the repository); ``heading`` opens the tables file; ``variant`` is the
    network the sizes are counted on; ``overrides`` are ``--set`` values for every non-shared
    stage of every chain (a twin rule such as ``optimizer.lr_scale=4``); ``every_stage`` are
    ``--set-all`` values for every stage, the shared ones too (another input, e.g.
    ``data.image_size=32``), whose shared stages then run under ``shared_root``. ``second_truth``
    (``label``, ``path`` relative to ``folder``, optional ``variant`` and ``num_classes``: the network that
    truth trained, on which sizes are counted) is a second ground truth of some of the benchmark's archs,
    e.g. their ImageNet accuracies: each group's rows are also compared on it."""

    folder: Path
    run_root: str
    heading: str
    variant: Mapping | None = None
    overrides: tuple[str, ...] = ()
    every_stage: tuple[str, ...] = ()
    shared_root: str | None = None
    second_truth: Mapping | None = None


#: the file in a benchmark folder that says how the paper-table tools run on it
TABLE_BENCH_FILE = "tables.yaml"
_TABLE_BENCH_KEYS = {"heading": str, "run_root": str, "variant": dict, "set": list, "set_all": list,
                     "shared_root": str, "second_truth": dict}
_SECOND_TRUTH_KEYS = {"label": str, "path": str, "variant": dict, "num_classes": int}


def read_table_bench(folder: str | Path) -> TableBench:
    """The :class:`TableBench` of ``folder/tables.yaml`` (keys ``heading`` and ``run_root``, required;
    ``variant``, ``set``, ``set_all``, ``shared_root`` and ``second_truth``, optional; ``set_all`` needs
    ``shared_root``); one clear error naming the file and key otherwise.

    Example:
        >>> bench = read_table_bench("benchmarks/fmnist-r48")                      # doctest: +SKIP
        >>> bench.run_root, bench.overrides                                         # doctest: +SKIP
        ('runs/cvpr22_tables', ())
    """
    from .engine.config import load_config, read_yaml_mapping

    folder = Path(folder)
    path = folder / TABLE_BENCH_FILE
    data = read_yaml_mapping(path)
    for key, value in data.items():
        if key not in _TABLE_BENCH_KEYS:
            raise InputError(f"unknown key (known: {', '.join(_TABLE_BENCH_KEYS)})", file=str(path), key=key)
        if not isinstance(value, _TABLE_BENCH_KEYS[key]):
            raise InputError(f"must be a {_TABLE_BENCH_KEYS[key].__name__}, got {value!r}", file=str(path), key=key)
    for key in ("heading", "run_root"):
        if not data.get(key):
            raise InputError("missing", file=str(path), key=key)
    for key in ("run_root", "shared_root"):
        if key in data and Path(data[key]).is_absolute():
            raise InputError(f"must be relative to the repository, got {data[key]!r}", file=str(path), key=key)
    second = data.get("second_truth")
    for key, value in (second or {}).items():
        if key not in _SECOND_TRUTH_KEYS or not isinstance(value, _SECOND_TRUTH_KEYS[key]):
            raise InputError(f"must be a mapping of label (text), path (a file relative to this folder) and "
                             f"optionally variant (a mapping) and num_classes (an integer), got {key}: {value!r}",
                             file=str(path), key="second_truth")
    if second is not None and not (second.get("label") and second.get("path")):
        raise InputError("needs a label and a path", file=str(path), key="second_truth")
    if second is not None and Path(second["path"]).is_absolute():
        raise InputError(f"path must be relative to {folder}, got {second['path']!r}", file=str(path),
                         key="second_truth.path")
    if data.get("set_all") and not data.get("shared_root"):
        raise InputError("set_all changes the shared stages too; give shared_root, the folder they run in",
                         file=str(path), key="shared_root")
    for key in ("set", "set_all"):
        for i, pair in enumerate(data.get(key) or []):
            try:
                if not isinstance(pair, str):
                    raise InputError(f"must be a KEY=VALUE string, got {pair!r}")
                load_config(None, [pair])
            except InputError as error:
                raise InputError(error.problem, file=str(path), key=f"{key}[{i}]") from None
    return TableBench(folder, data["run_root"], data["heading"].rstrip("\n"), data.get("variant"),
                      tuple(data.get("set") or []), tuple(data.get("set_all") or []), data.get("shared_root"),
                      second)


def run_chains(rows: list[TableRow], seeds: list[int], run_root: Path, repo: Path, python: str,
               overrides: tuple[str, ...] = (), every_stage: tuple[str, ...] = (),
               shared_root: str | None = None, kept: Path | None = None) -> list[int]:
    """One single-threaded process per seed at a time, the seeds in parallel, each seed running the rows'
    distinct chains in order (``chain`` resumes and skips finished stages; the first failure stops the
    seed) with ``overrides`` on their non-shared stages and ``every_stage`` on all (shared ones under
    ``shared_root``); returns each seed's exit code. With ``kept``, a chain whose rows are all kept
    there is not started, and each chain's rows are kept as soon as it finishes: run folders are not
    committed, so this is what a fresh checkout resumes from. Logs go to ``run_root/seed<N>.log``."""
    from concurrent.futures import ThreadPoolExecutor

    from .engine.progress import JobProgress

    sets = [word for pair in overrides for word in ("--set", pair)] + [
        word for pair in every_stage for word in ("--set-all", pair)] + (
        ["--shared-root", shared_root] if shared_root else [])

    def chains_of(seed: int) -> dict[tuple[str, str], list[TableRow]]:
        """The seed's distinct (chain, run folder) pairs in order, each with its rows."""
        chains: dict[tuple[str, str], list[TableRow]] = {}
        for row in rows:
            chains.setdefault((row.chain, row.run_dir.format(seed=seed)), []).append(row)
        return chains

    every = {seed: chains_of(seed) for seed in seeds}
    todo = {seed: {chain: its_rows for chain, its_rows in chains.items()
                   if kept is None or not all(row.kept(kept, seed).exists() for row in its_rows)}
            for seed, chains in every.items()}
    total = sum(len(chains) for chains in every.values())
    progress = JobProgress("tables", total, done=total - sum(len(chains) for chains in todo.values()), unit="chain")

    def run_seed(seed: int) -> int:
        with open(run_root / f"seed{seed}.log", "a") as log:
            for (chain, run_dir), its_rows in todo[seed].items():
                code = subprocess.call([python, "-m", "paddle_supernet", "chain", "--chain", chain,
                                        "--set", f"seed={seed}", *sets, "--run-root", str(run_root / run_dir)],
                                       cwd=repo, stdout=log, stderr=subprocess.STDOUT,
                                       env={**os.environ, "OMP_NUM_THREADS": "1"})
                if code == 0 and kept is not None:
                    keep_submissions(its_rows, [seed], run_root, kept)
                progress.ended(f"{chain} seed {seed}", code)
                if code:
                    return code
        return 0

    with ThreadPoolExecutor(max_workers=max(1, len(seeds))) as pool:
        return list(pool.map(run_seed, seeds))


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


def run_table_main(doc: str, tool: str, groups: dict, titles: dict, default_group: str,
                   benches: Mapping[str, TableBench | Path], tables_file: str, space: str, num_classes: int, repo: Path,
                   legacy: Callable[[str], str] | None = None, reference: str | None = None,
                   anchor: Callable[[TableBench, Path, bool], tuple[str, str]] | None = None,
                   resamples: int = 2000, claims: Mapping[str, list] | None = None) -> int:
    """The command line of a paper-tables tool: run a group's chains for the seeds on a benchmark
    (``--bench``, the first of ``benches`` by default; a folder is read with :func:`read_table_bench`)
    unless ``--tables-only``, then rewrite that group's section of the benchmark's ``tables_file`` (the
    other groups' sections are kept). ``reference`` is the row every other is compared with (paired
    bootstrap); ``anchor(bench, run_root, make)`` gives the label and submission of a row scored once
    for all seeds (made, after the chains, when ``make``), e.g. the pretrained network every chain
    starts from. ``claims``: a group's paper orderings (:mod:`~paddle_supernet.paper_claims`), checked in its
    section."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--group", choices=sorted(groups), default=default_group)
    parser.add_argument("--bench", choices=list(benches), default=next(iter(benches)),
                        help="the benchmark folder the rows are measured on")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--run-root", help="default: the benchmark's run_root")
    parser.add_argument("--tables-only", action="store_true", help="only write the tables from finished runs")
    parser.add_argument("--summary", action="store_true",
                        help="print one compact table of every group's rows from the kept submissions (Kendall on "
                             "the ground truth and on the second truth, each row against the reference)")
    parser.add_argument("--twin-check", action="store_true",
                        help="run only the reference row and the anchor, and print how far the row moved from "
                             "the anchor (a benchmark's twin rule, checked before its tables; needs no ground truth)")
    args = parser.parse_args()
    try:
        bench = benches[args.bench]
        bench = read_table_bench(bench) if isinstance(bench, Path) else bench
        root = (repo / (args.run_root or bench.run_root)).resolve()
        root.mkdir(parents=True, exist_ok=True)
        rows, kept = groups[args.group], bench.folder / "tables"
        if args.twin_check:
            return twin_check(rows, args.seeds, root, repo, bench, reference, anchor)
        if args.summary:
            print(summary(groups, args.seeds, kept, bench, space, num_classes, reference, anchor, root, resamples))
            return 0
        if not args.tables_only:
            codes = run_chains(rows, args.seeds, root, repo, sys.executable, bench.overrides, bench.every_stage,
                               bench.shared_root, kept)
            if any(codes):
                print(f"a chain failed (exit codes {codes}); see {root}/seed*.log", file=sys.stderr)
                return 1
        fixed = kept_anchor(anchor, bench, root, kept, not args.tables_only) if anchor else None
        keep_submissions(rows, args.seeds, root, kept, fixed)
        fixed_kept = (fixed[0], str(anchor_kept_path(kept, fixed[1]))) if fixed else None
        section = group_section(args.group, titles[args.group], rows, args.seeds, kept, bench, tool, space,
                                num_classes, reference, fixed_kept, resamples, (claims or {}).get(args.group))
        order = list(groups)
        sections = read_sections(bench.folder / tables_file, order, legacy)
        sections[args.group] = section
        write_sections(bench.folder / tables_file, bench.heading, order, sections)
        print(section)
        return 0
    except InputError as error:  # one clear line for bad input (e.g. a chain not finished yet)
        print(f"{tool}: error: {error}", file=sys.stderr)
        return 2


def summary(groups: dict, seeds: list[int], kept: Path, bench: TableBench, space: str, num_classes: int,
            reference: str | None, anchor: Callable[[TableBench, Path, bool], tuple[str, str]] | None,
            run_root: Path, resamples: int = 2000) -> str:
    """The compact table of :func:`~paddle_supernet.table_summary.summary_markdown` over every group's
    rows (each label once, in the groups' order) and the anchor, from the submissions kept in ``kept``."""
    from .table_summary import bench_truths, summary_markdown

    rows: dict[str, list[str]] = {}
    for group_rows in groups.values():
        for row in group_rows:
            rows.setdefault(row.label, [str(p) for p in (row.kept(kept, s) for s in seeds) if p.exists()])
    if anchor is not None:
        label, path = anchor(bench, run_root, False)
        if anchor_kept_path(kept, path).exists():
            rows[label] = [str(anchor_kept_path(kept, path))]
    if reference is None or not rows.get(reference):
        raise InputError(f"the summary compares every row with {reference!r}, which has no kept submission yet")
    return summary_markdown(rows, reference, bench_truths(bench, num_classes), space, resamples)


def twin_check(rows: list[TableRow], seeds: list[int], root: Path, repo: Path, bench: TableBench,
               reference: str | None, anchor: Callable[[TableBench, Path, bool], tuple[str, str]] | None) -> int:
    """Run only the ``reference`` row's chains for ``seeds`` (as the tables will: the same folders, so
    they are reused) and the ``anchor``, keep their submissions beside the benchmark (as the tables do),
    then print the Kendall of each seed's scores with the anchor's: whether a benchmark's twin rule
    moves the reference away from the network it starts from."""
    import sys

    if reference is None or anchor is None:
        raise InputError("--twin-check needs a tool with a reference row and an anchor")
    ref_rows, kept = [row for row in rows if row.label == reference], bench.folder / "tables"
    codes = run_chains(ref_rows, seeds, root, repo, sys.executable, bench.overrides, bench.every_stage,
                       bench.shared_root, kept)
    if any(codes):
        print(f"a chain failed (exit codes {codes}); see {root}/seed*.log", file=sys.stderr)
        return 1
    label, path = kept_anchor(anchor, bench, root, kept, True)
    keep_submissions(ref_rows, seeds, root, kept, (label, path))
    print(f"{reference} against the {label} on {bench.folder.name}'s archs"
          + (f" (every non-shared stage with `{' '.join(bench.overrides)}`)" if bench.overrides else "") + ":")
    print(anchor_agreement({reference: [str(row.kept(kept, seed)) for row in ref_rows for seed in seeds]},
                           str(anchor_kept_path(kept, path))))
    return 0


def anchor_kept_path(kept: Path, anchor_path: str) -> Path:
    """Where :func:`keep_submissions` keeps an anchor's submission: ``kept/<its folder's name>.json``."""
    return kept / f"{Path(anchor_path).parent.name}.json"


def kept_anchor(anchor: Callable[[TableBench, Path, bool], tuple[str, str]], bench: TableBench, run_root: Path,
                kept: Path, make: bool) -> tuple[str, str]:
    """The anchor's (label, submission in ``run_root``), scored when ``make`` unless it is already
    there or kept (a fresh checkout does not score it again)."""
    label, path = anchor(bench, run_root, False)
    if make and not Path(path).exists() and not anchor_kept_path(kept, path).exists():
        label, path = anchor(bench, run_root, True)
    return label, path


def keep_submissions(rows: list[TableRow], seeds: list[int], run_root: Path, kept: Path,
                     anchor: tuple[str, str] | None = None) -> list[Path]:
    """Copy every finished row's submission to ``kept/<its run folder>/<stage>.json`` (and the anchor's
    to ``kept/<anchor file's folder>.json``), byte for byte and atomically, so the tables can be
    checked without the runs; returns the files written."""
    from .io.atomic import copy_if_changed

    pairs = [(Path(row.submission(run_root, seed)), row.kept(kept, seed)) for seed in seeds for row in rows]
    if anchor is not None:
        pairs.append((Path(anchor[1]), anchor_kept_path(kept, anchor[1])))
    return [target for source, target in pairs if source.exists() and copy_if_changed(source, target)]


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
        return "\n".join(lines + claim_lines(claims, submissions, bench, gt_path, len(gt), resamples))
    if reference is not None:
        lines += [f"(The differences from the {reference} row appear once it is finished.)", ""]
    return "\n".join(lines + [
        f"All {len(gt)} archs:", "", seed_table(submissions, gt_path, seed_paths, space, num_classes, variant=variant), "",
        f"The {len(middle)} archs in the middle half of the MACs range (similar sizes):", "",
        seed_table(submissions, gt_path, seed_paths, space, num_classes, middle, variant), ""]
        + claim_lines(claims, submissions, bench, gt_path, len(gt), resamples))


def claim_lines(claims: list | None, rows: Mapping[str, list[str]], bench: TableBench, gt_path: str, n_archs: int,
                resamples: int = 2000) -> list[str]:
    """Markdown lines: which of the paper's ``claims`` reproduce on the benchmark's ground truth and, when
    its file is here, on its ``second_truth`` (:func:`~paddle_supernet.paper_claims.claims_markdown`)."""
    if not claims:
        return []
    from .paper_claims import claims_markdown

    truths = [(f"`{Path(gt_path).name}` ({n_archs} archs)", gt_path)]
    second = bench.second_truth
    if second and (bench.folder / second["path"]).exists():
        truths.append((f"`{Path(second['path']).name}`", str(bench.folder / second["path"])))
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
