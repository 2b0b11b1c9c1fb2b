"""Running a paper-tables tool: its chains for every seed (resumable, each chain's rows kept beside the
benchmark as it finishes), the command line every tables tool shares (:func:`run_table_main`), the
twin check and the compact summary. The markdown itself is :mod:`paddle_supernet.tables`.

Example:
    >>> run_table_main(doc=__doc__, tool="cvpr22_tables", groups=GROUPS, titles=TITLES,  # doctest: +SKIP
    ...                default_group="runner_up", benches=benches, tables_file="cvpr22_tables.md",
    ...                space="cvpr22_resnet48", num_classes=10, repo=REPO)
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Callable, Mapping

from .errors import InputError
from .table_bench import TableBench, TableRow, bench_truths, read_table_bench
from .tables import anchor_agreement, claim_lines, group_section, read_sections, write_sections


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
            print(summary(groups, args.seeds, kept, bench, space, num_classes, reference, anchor, root, resamples,
                          claims))
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
            run_root: Path, resamples: int = 2000, claims: Mapping[str, list] | None = None) -> str:
    """The compact table of :func:`~paddle_supernet.table_summary.summary_markdown` over every group's
    rows (each label once, in the groups' order) and the anchor, from the submissions kept in ``kept``;
    then, with ``claims`` (group -> its :class:`~paddle_supernet.paper_claims.PaperClaim` list), every
    group's paper orderings in one table (:func:`~paddle_supernet.paper_claims.claims_markdown`)."""
    from .table_summary import summary_markdown

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
    text = summary_markdown(rows, reference, bench_truths(bench, num_classes), space, resamples)
    every_claim = [claim for group in groups for claim in (claims or {}).get(group, [])]
    if not every_claim:
        return text
    return "\n".join([text, "", *claim_lines(every_claim, rows, bench, num_classes, resamples)]).rstrip("\n")


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
