#!/usr/bin/env python3
"""Tables 1 and 2 of the 2021 winner's paper on the fmnist-r20 benchmark, in one command.

Runs a group of scaled-down chains for two seeds, one single-threaded process per
seed in parallel, each resuming and skipping finished stages; then writes the
group's section of benchmarks/fmnist-r20/cvpr21_tables.md (the other group's
section is kept) with every (variant, stage) row as mean +- spread over the seeds,
next to the proxies and the seed-to-seed ceiling, for all archs and for the middle
half of the MACs range. Groups: ``paper`` (configs/cvpr21/fmnist/chain_{base,oe,prl_oe}.yaml,
the paper's defaults) and ``released`` (chain_prl_oe_code.yaml, the released code).

    python tools/cvpr21_tables.py [--group paper|released] [--seeds 0 1] [--run-root runs/cvpr21_tables] [--tables-only]
"""
import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from paddle_supernet.errors import InputError  # noqa: E402  (pure Python, no Paddle import)

BENCH = REPO / "benchmarks" / "fmnist-r20"
GROUPS = {
    "paper": {"base": ["stage1", "stage2", "stage3"], "oe": ["stage1"], "prl_oe": ["stage1", "stage2", "stage3"]},
    "released": {"prl_oe_code": ["stage1", "stage2", "stage3"]},
}
LABELS = {"base": "base", "oe": "OE", "prl_oe": "PReLU+OE", "prl_oe_code": "PReLU+OE, released code"}
TITLES = {"paper": "The paper's defaults", "released": "The released code's pipeline (chain_prl_oe_code.yaml)"}
MARK = "<!-- section: {} -->"


def run_seed(seed: int, run_root: Path, chains: dict) -> subprocess.Popen:
    script = " && ".join(
        f"{sys.executable} -m paddle_supernet chain --chain configs/cvpr21/fmnist/chain_{variant}.yaml "
        f"--set seed={seed} --run-root {run_root / f'{variant}_seed{seed}'}"
        for variant in chains)
    log = open(run_root / f"seed{seed}.log", "a")
    return subprocess.Popen(["bash", "-c", script], cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--group", choices=sorted(GROUPS), default="paper")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--run-root", default="runs/cvpr21_tables")
    parser.add_argument("--tables-only", action="store_true", help="only write the tables from finished runs")
    args = parser.parse_args()
    run_root = (REPO / args.run_root).resolve()
    run_root.mkdir(parents=True, exist_ok=True)
    if not args.tables_only:
        procs = [run_seed(seed, run_root, GROUPS[args.group]) for seed in args.seeds]
        codes = [p.wait() for p in procs]
        if any(codes):
            print(f"a chain failed (exit codes {codes}); see {run_root}/seed*.log", file=sys.stderr)
            return 1
    from paddle_supernet.io.atomic import atomic_write_text
    from paddle_supernet.io.challenge_json import read_arch_file
    from paddle_supernet.report import band_keys
    from paddle_supernet.spaces import get_space
    from paddle_supernet.tables import seed_table

    rows = {f"{LABELS[variant]}, stage {stage[-1]}": [str(run_root / f"{variant}_seed{s}" / stage / "submission.json")
                                                        for s in args.seeds]
            for variant, stages in GROUPS[args.group].items() for stage in stages}
    gt_path, seed_paths = str(BENCH / "gt.json"), [str(BENCH / "gt.seed0.json"), str(BENCH / "gt.seed1.json")]
    middle = band_keys(read_arch_file(gt_path), get_space("cvpr21_resnet20", num_classes=10), 0.25, 0.75)
    section = "\n".join([
        MARK.format(args.group), f"## {TITLES[args.group]}", "",
        f"Seeds {args.seeds}; each cell is the mean ± half the range over the seeds. Written by "
        f"`tools/cvpr21_tables.py --group {args.group}`.", "",
        "All 100 archs:", "", seed_table(rows, gt_path, seed_paths, "cvpr21_resnet20", 10), "",
        f"The {len(middle)} archs in the middle half of the MACs range (similar sizes):", "",
        seed_table(rows, gt_path, seed_paths, "cvpr21_resnet20", 10, middle), ""])
    sections = read_sections(BENCH / "cvpr21_tables.md")
    sections[args.group] = section
    text = "\n".join(["# 2021 winner, Tables 1 and 2 on fmnist-r20", ""] +
                     [sections[g] for g in GROUPS if g in sections])
    atomic_write_text(BENCH / "cvpr21_tables.md", text)
    print(section)
    return 0


def read_sections(path: Path) -> dict:
    """The group sections of an existing tables file (a file without marks is the paper group's)."""
    if not path.exists():
        return {}
    text = path.read_text(encoding="utf-8")
    sections, current, lines = {}, None, []
    for line in text.splitlines():
        group = next((g for g in GROUPS if line == MARK.format(g)), None)
        if group:
            if current:
                sections[current] = "\n".join(lines).rstrip("\n") + "\n"
            current, lines = group, [line]
        elif current:
            lines.append(line)
    if current:
        sections[current] = "\n".join(lines).rstrip("\n") + "\n"
    if not sections:  # the first version: one table of the paper's chains under a title line
        body = text.split("\n", 2)[2] if text.startswith("# ") else text
        sections["paper"] = "\n".join([MARK.format("paper"), f"## {TITLES['paper']}", "", body.rstrip("\n"), ""])
    return sections


if __name__ == "__main__":
    try:
        sys.exit(main())
    except InputError as error:  # one clear line for bad input (e.g. a chain not finished yet)
        print(f"cvpr21_tables: error: {error}", file=sys.stderr)
        sys.exit(2)
