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
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from paddle_supernet.quiet_import import quiet_paddle_import  # noqa: E402

quiet_paddle_import()  # before anything below imports Paddle
from paddle_supernet.paper_claims import PaperClaim  # noqa: E402
from paddle_supernet.table_bench import TableBench, TableRow  # noqa: E402
from paddle_supernet.table_runs import run_table_main  # noqa: E402
from paddle_supernet.tables import section_mark  # noqa: E402

CHAINS = {
    "paper": {"base": ["stage1", "stage2", "stage3"], "oe": ["stage1"], "prl_oe": ["stage1", "stage2", "stage3"]},
    "released": {"prl_oe_code": ["stage1", "stage2", "stage3"]},
}
LABELS = {"base": "base", "oe": "OE", "prl_oe": "PReLU+OE", "prl_oe_code": "PReLU+OE, released code"}
GROUPS = {group: [TableRow(f"{LABELS[variant]}, stage {stage[-1]}", f"configs/cvpr21/fmnist/chain_{variant}.yaml",
                           f"{variant}_seed{{seed}}", stage)
                  for variant, stages in chains.items() for stage in stages]
          for group, chains in CHAINS.items()}
TITLES = {"paper": "The paper's defaults", "released": "The released code's pipeline (chain_prl_oe_code.yaml)"}
# The orderings the paper reports (Pearson; Table 1: one-stage supernets, Table 2: the progressive stages,
# where the third stage lowers "base"); the released pipeline is held to the paper's PReLU+OE stages.
PRL_STAGES = [(2, 1, (0.97648, 0.97321)), (3, 2, (0.97696, 0.97648))]
CLAIMS = {
    "paper": [PaperClaim(a, b, "pearson", paper, source) for a, b, paper, source in [
        ("OE, stage 1", "base, stage 1", (0.96944, 0.96341), "Table 1"),
        ("PReLU+OE, stage 1", "OE, stage 1", (0.97321, 0.96944), "Table 1"),
        ("base, stage 2", "base, stage 1", (0.96732, 0.96341), "Table 2"),
        ("base, stage 2", "base, stage 3", (0.96732, 0.96686), "Table 2"),
        *((f"PReLU+OE, stage {a}", f"PReLU+OE, stage {b}", paper, "Table 2") for a, b, paper in PRL_STAGES)]],
    "released": [PaperClaim(f"PReLU+OE, released code, stage {a}", f"PReLU+OE, released code, stage {b}", "pearson",
                            paper, "Table 2") for a, b, paper in PRL_STAGES],
}


def legacy(text: str) -> str:
    """The first version of the file: one table of the paper's chains under a title line."""
    body = text.split("\n", 2)[2] if text.startswith("# ") else text
    return "\n".join([section_mark("paper"), f"## {TITLES['paper']}", "", body.rstrip("\n"), ""])


if __name__ == "__main__":
    sys.exit(run_table_main(
        doc=__doc__, tool="cvpr21_tables", groups=GROUPS, titles=TITLES, default_group="paper",
        benches={"fmnist-r20": TableBench(REPO / "benchmarks" / "fmnist-r20", "runs/cvpr21_tables",
                                          "# 2021 winner, Tables 1 and 2 on fmnist-r20")},
        tables_file="cvpr21_tables.md", space="cvpr21_resnet20", num_classes=10, repo=REPO, legacy=legacy,
        claims=CLAIMS))
