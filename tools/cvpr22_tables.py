#!/usr/bin/env python3
"""The 2022 papers' tables on a 2022 benchmark (fmnist-r48 by default), in one command.

Groups (each a section of benchmarks/<bench>/cvpr22_tables.md, the others kept):
``runner_up`` (the runner-up's Tables 1-3: the first APS, APS_v2, APS_v3,
+CPT, +SSE4, +SSE34, +SSE34-Dis), ``runner_up_released`` (its released pipeline),
``winner`` (the winner's Table 1, vanilla vs contrastive, and Table 2, the stage-2
samplers) and ``winner_released``; the official baseline is a row of every group.
Each row is the mean +- spread over the seeds, next to the proxies and the
seed-to-seed ceiling. One single-threaded process per seed runs the group's chains,
resuming and skipping finished stages (chains of a group share stages; the pretrained
full network is the shared first stage of every chain, made once). Each chain's rows are kept in
benchmarks/<bench>/tables/ as soon as it finishes, and a chain whose rows are all kept there is not
run again, so a fresh checkout with those files committed resumes; the tables are written from them.

Benchmarks: every folder of benchmarks/ with a ``tables.yaml`` (``--bench``, default fmnist-r48);
that file names the runs' folder, the network the sizes are counted on, the ``--set`` values
every non-shared stage runs with (the twin rule) and the ``--set-all`` values every stage runs
with (another input; the shared stages then run under its ``shared_root``). Every group also scores the pretrained full
network as it is (no supernet training: the point every chain starts from) and shows how far
each row moved from it; each row's difference from the official baseline has a 95% paired
bootstrap interval over archs.

    python tools/cvpr22_tables.py [--group runner_up|runner_up_released|winner|winner_released] [--seeds 0 1]
                                  [--bench fmnist-r48] [--run-root DIR] [--tables-only]
    python tools/cvpr22_tables.py --bench fmnist32-r48 --twin-check   # the baseline and the pretrained
        # network only (the tables' own runs, reused by them), and the Kendall between their scores
    python tools/cvpr22_tables.py --bench fmnist32-r48 --summary   # every group's rows in one compact table
"""
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from paddle_supernet.quiet_import import quiet_paddle_import  # noqa: E402

quiet_paddle_import()  # before anything below imports Paddle
from paddle_supernet.errors import InputError  # noqa: E402
from paddle_supernet.paper_claims import PaperClaim  # noqa: E402
from paddle_supernet.table_bench import TABLE_BENCH_FILE, TableBench, TableRow  # noqa: E402
from paddle_supernet.table_runs import run_table_main  # noqa: E402

BENCHMARKS = REPO / "benchmarks"
DEFAULT_BENCH = "fmnist-r48"
PRETRAINED = "runs/cvpr22_fmnist/pretrain_largest/checkpoint.pdparams"  # the shared stage of chain_baseline.yaml
FMNIST = "configs/cvpr22/fmnist"
BASELINE = TableRow("official baseline (kd, uniform)", f"{FMNIST}/chain_baseline.yaml", "baseline_seed{seed}", "baseline")


def _rows(family: str, run_dir: str, rows: list[tuple[str, str, str]]) -> list[TableRow]:
    return [BASELINE] + [TableRow(label, f"{FMNIST}/{family}/{chain}.yaml", run_dir, stage) for label, chain, stage in rows]


GROUPS = {
    "runner_up": _rows("runner_up", "runner_up_seed{seed}", [
        ("first APS (Table 1 baseline; our reading)", "chain_aps_v1", "aps_v1"),
        ("APS_v2 (our reading)", "chain_aps_v2", "aps_v2"),
        ("APS_v3", "chain_aps_v3", "aps_v3"),
        ("APS_v3-CPT", "chain_aps_v3_cpt", "cpt"),
        ("APS_v3-CPT-SSE4 (our reading)", "chain_aps_v3_cpt_sse4", "sse4"),
        ("APS_v3-CPT-SSE34 (our reading)", "chain_aps_v3_cpt_sse34", "sse34"),
        ("APS_v3-CPT-SSE34-Dis", "chain_aps_v3_cpt_sse34_dis", "sse34_dis")]),
    "runner_up_released": _rows("runner_up", "runner_up_released_seed{seed}", [
        ("released APS", "chain_released", "aps_released"),
        ("released APS + CPT", "chain_released", "cpt_released"),
        ("released APS + CPT + SSE34-Dis", "chain_released", "sse34_dis_released")]),
    "winner": _rows("winner", "winner_seed{seed}", [
        ("vanilla (stage 2 alone, CCFS-F)", "chain_vanilla", "stage2_vanilla"),
        ("contrastive + CCFS-F", "chain_contrastive", "stage2_ccfs_f"),
        ("contrastive + FairNAS", "chain_fair", "stage2_fair"),
        ("contrastive + OFA progressive shrinking (our reading)", "chain_ofa", "stage2_ofa"),
        ("contrastive + CCFS-M", "chain_ccfs_m", "stage2_ccfs_m"),
        ("contrastive + sandwich (extra row, not in the paper)", "chain_sandwich", "stage2_sandwich")]),
    "winner_released": _rows("winner", "winner_released_seed{seed}", [
        ("released MoCo stage 1 (scored as is)", "chain_released", "moco_released"),
        ("released stage 1 + stage 2", "chain_released", "stage2_released")]),
}
TITLES = {
    "runner_up": "2nd place (APS, CPT, SSE): the paper's Tables 1-3, paper settings",
    "runner_up_released": "2nd place: the released pipeline",
    "winner": "1st place (contrastive pretraining, CCFS): the paper's Tables 1-2, paper settings",
    "winner_released": "1st place: the released pipeline",
}

# The orderings the papers report between rows of a group, on the paper's own metric and figures (the
# runner-up's Tables 1-3 report Pearson, the winner's Tables 1-2 Kendall); each group's section says which
# reproduce. The runner-up's released pipeline is held to the paper's Tables 2-3 (CPT, then SSE34-Dis).
RUNNER_UP_CLAIMS = [
    ("APS_v2 (our reading)", "first APS (Table 1 baseline; our reading)", (0.80141, 0.79884), "Table 1"),
    ("APS_v3", "APS_v2 (our reading)", (0.80263, 0.80141), "Table 1"),
    ("APS_v3-CPT", "APS_v3", (0.81415, 0.80263), "Table 2"),
    ("APS_v3-CPT-SSE4 (our reading)", "APS_v3-CPT", (0.82166, 0.81415), "Table 3"),
    ("APS_v3-CPT-SSE34 (our reading)", "APS_v3-CPT-SSE4 (our reading)", (0.83768, 0.82166), "Table 3"),
    ("APS_v3-CPT-SSE34-Dis", "APS_v3-CPT-SSE34 (our reading)", (0.84652, 0.83768), "Table 3"),
]
WINNER_CLAIMS = [
    ("contrastive + CCFS-F", "vanilla (stage 2 alone, CCFS-F)", (0.858, 0.849), "Table 1"),
    ("contrastive + OFA progressive shrinking (our reading)", "contrastive + FairNAS", (0.823, 0.819), "Table 2"),
    ("contrastive + CCFS-M", "contrastive + OFA progressive shrinking (our reading)", (0.841, 0.823), "Table 2"),
    ("contrastive + CCFS-F", "contrastive + CCFS-M", (0.858, 0.841), "Table 2"),
    ("contrastive + CCFS-F", "contrastive + FairNAS", (0.858, 0.819), "Table 2"),
]
CLAIMS = {
    "runner_up": [PaperClaim(a, b, "pearson", paper, source) for a, b, paper, source in RUNNER_UP_CLAIMS],
    "runner_up_released": [
        PaperClaim("released APS + CPT", "released APS", "pearson", (0.81415, 0.80263), "Table 2"),
        PaperClaim("released APS + CPT + SSE34-Dis", "released APS + CPT", "pearson", (0.84652, 0.81415), "Table 3")],
    "winner": [PaperClaim(a, b, "kendall", paper, source) for a, b, paper, source in WINNER_CLAIMS],
}


def evaluate_command(bench: TableBench, checkpoint: str, out: Path) -> list[str]:
    """The ``evaluate`` command that scores ``checkpoint`` on the benchmark's archs with the ``eval.*``
    values of its twin rule (e.g. the scoring backend), as the rows are scored."""
    evals = [word for pair in bench.overrides if pair.startswith("eval.") and not pair.startswith("eval.archs=")
             for word in ("--set", pair)]
    return [sys.executable, "-m", "paddle_supernet", "evaluate", "--checkpoint", checkpoint,
            "--archs", str(bench.folder / "archs.json"), "--out", str(out), *evals]


def pretrained_row(bench: TableBench, run_root: Path, make: bool) -> tuple[str, str]:
    """The pretrained full network (the chains' shared first stage, under the benchmark's ``shared_root``
    when it has one) scored as it is on the benchmark's archs, once for all seeds, when ``make``."""
    out = run_root / "pretrained" / "submission.json"
    if make and not out.exists():
        checkpoint = str(Path(bench.shared_root or ".") / PRETRAINED)
        code = subprocess.call(evaluate_command(bench, checkpoint, out), cwd=REPO,
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
        if code:
            raise InputError(f"scoring the pretrained network failed (exit {code}; its error is above)",
                             file=checkpoint)
    return "pretrained full network, scored as is (no supernet training)", str(out)


if __name__ == "__main__":
    folders = sorted(f.parent for f in BENCHMARKS.glob(f"*/{TABLE_BENCH_FILE}"))
    benches = {f.name: f for f in sorted(folders, key=lambda f: f.name != DEFAULT_BENCH)}
    sys.exit(run_table_main(
        doc=__doc__, tool="cvpr22_tables", groups=GROUPS, titles=TITLES, default_group="runner_up", benches=benches,
        tables_file="cvpr22_tables.md", space="cvpr22_resnet48", num_classes=10, repo=REPO,
        reference=BASELINE.label, anchor=pretrained_row, claims=CLAIMS))
