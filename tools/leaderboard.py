#!/usr/bin/env python3
"""Every supernet training method of the project on fmnist-r20, on equal terms, in one command.

Runs each row (a config or chain of configs/fmnist_r20/, 10 epochs in all of the same 5,000 of the
benchmark's 10,000 images at batch 64: configs/fmnist_r20/budget.yaml) for 3 seeds in two
single-threaded niced workers, resuming and skipping what is finished; copies every submission to benchmarks/fmnist-r20/leaderboard/<row>_seed<S>.json and
writes benchmarks/fmnist-r20/leaderboard.md: each row's seed mean against the 3-seed ground truth,
its training time, and its difference from Algorithm 1 with a 95% paired bootstrap interval over
the archs (pooled over seeds). Each job's submission is kept as soon as it finishes, and a kept job is
not run again, so a fresh checkout with them committed resumes too. Kill it and run it again to
resume; --table-only rewrites the table from the submissions committed so far.

    python tools/leaderboard.py [--seeds 0 1 2] [--workers 2] [--rows spos alg1 ...] [--table-only]
"""
import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from paddle_supernet.quiet_import import quiet_paddle_import  # noqa: E402

quiet_paddle_import()  # before anything below imports Paddle
from paddle_supernet.errors import InputError  # noqa: E402
from paddle_supernet.io.atomic import atomic_write_text  # noqa: E402
from paddle_supernet.leaderboard import LeaderRow, leaderboard_markdown, proxy_markdown, run_rows  # noqa: E402

BENCH = REPO / "benchmarks" / "fmnist-r20"
C = "configs/fmnist_r20"
OURS = "our reading: no released code on this space"
ROWS = [
    LeaderRow("spos", "SPOS (uniform, CE)", f"{C}/spos.yaml"),
    LeaderRow("alg1", "Algorithm 1 (2021 winner)", f"{C}/alg1.yaml"),
    LeaderRow("prl_oe", "2021 winner: PReLU + OE, stage 1", f"{C}/chain_prl_oe.yaml"),
    LeaderRow("prl_oe_code", "2021 winner: released pipeline, stage 3", f"{C}/chain_prl_oe_code.yaml"),
    LeaderRow("sandwich", "sandwich + in-place distillation (OFA / BigNAS)", f"{C}/sandwich.yaml"),
    LeaderRow("fair", "FairNAS strict fairness", f"{C}/fair.yaml"),
    LeaderRow("ccfs_m", "CCFS-M", f"{C}/ccfs_m.yaml", OURS),
    LeaderRow("ccfs_f", "CCFS-F", f"{C}/ccfs_f.yaml", OURS),
    LeaderRow("cpt", "CPT (constraint candidates)", f"{C}/cpt.yaml", OURS),
    LeaderRow("few_shot", "few-shot copies by f18", f"{C}/chain_few_shot.yaml", OURS),
    LeaderRow("phases", "progressive shrinking over widths", f"{C}/phases.yaml", OURS),
    LeaderRow("kd", "2022 baseline rule: KD from a pretrained largest net", f"{C}/chain_kd.yaml"),
    LeaderRow("moco", "2022 winner: pretrained, MoCo, CCFS-F", f"{C}/chain_moco.yaml", OURS),
]
REFERENCE = "Algorithm 1 (2021 winner)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rows", nargs="+", choices=[r.name for r in ROWS], help="only these rows (default: all)")
    parser.add_argument("--run-root", default="runs/fmnist_r20_leaderboard")
    parser.add_argument("--table-only", action="store_true", help="only rewrite the table from the committed submissions")
    parser.add_argument("--resamples", type=int, default=2000)
    args = parser.parse_args()
    rows = [r for r in ROWS if not args.rows or r.name in args.rows]
    root, kept = (REPO / args.run_root).resolve(), BENCH / "leaderboard"
    try:
        if not args.table_only:
            failed = [job for job in run_rows(rows, args.seeds, root, REPO, args.workers, kept=kept) if job[2]]
            if failed:
                print(f"leaderboard: error: {len(failed)} job(s) failed ({failed}); see {root}/<row>_seed<S>.log",
                      file=sys.stderr)
        table_rows, seconds, notes, pending = {}, {}, {}, []
        for row in ROWS:
            paths = [row.kept(kept, s) for s in args.seeds]
            done = [str(p) for p in paths if p.exists()]
            if len(done) < len(paths):
                pending.append(f"{row.label} ({len(done)}/{len(paths)} seeds)")
            if done:
                table_rows[row.label], notes[row.label] = done, row.note
                secs = [float(Path(p[:-5] + ".seconds").read_text()) for p in done if Path(p[:-5] + ".seconds").exists()]
                seconds[row.label] = secs
        gt = BENCH / "gt.json"
        table = leaderboard_markdown(table_rows, str(gt), [str(BENCH / f"gt.seed{s}.json") for s in (0, 1, 2)],
                                     "cvpr21_resnet20", 10, REFERENCE, seconds, notes, args.resamples)
        text = "\n".join([
            "# Every method on fmnist-r20", "",
            f"Written by `python tools/leaderboard.py` (seeds {args.seeds}). Ground truth: `gt.json`, the mean of 3 "
            "stand-alone seeds. Each row: the seed mean ± half the range; train min: training wall time per seed "
            "(all stages, one thread, two jobs sharing our 2 cores). The last three columns compare with "
            f"{REFERENCE}: the difference of the seed means with a 95% paired bootstrap interval over the 100 archs "
            f"({args.resamples} resamplings, pooled over seeds); 'separated' names the differences whose interval "
            "excludes 0. Budget: every row sees 10 epochs of the same 5,000 of the benchmark's 10,000 training "
            "images in all, at batch 64 with every lr per 256 images kept (configs/fmnist_r20/budget.yaml).", "",
            *([f"Not finished yet: {'; '.join(pending)}.", ""] if pending else []),
            table, "",
            "## Against the size proxies", "",
            "Does a method rank better than counting parameters or MACs, and does it know more than size? Each row's "
            "Pearson beyond size with its 95% bootstrap interval over the 100 archs (0 is what size alone gives; the "
            "proxies themselves score below 0 there, since the sizes held fixed are their logarithms), then its "
            "difference from the params and the MACs proxies on Kendall and on Pearson beyond size, with 95% paired "
            "bootstrap intervals (pooled over the row's seeds); 'separated' names those whose interval excludes 0.",
            "",
            proxy_markdown(table_rows, str(gt), "cvpr21_resnet20", 10, args.resamples), ""])
        atomic_write_text(BENCH / "leaderboard.md", text)
        print(text)
        return 0
    except InputError as error:
        print(f"leaderboard: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
