#!/usr/bin/env python3
"""Does search on our supernet beat random search and the size heuristic? (issue 28; fmnist-r20 by default)

For three MACs budgets (the 25th, 50th and 75th percentiles of the space's MACs over 10,000 drawn
archs, counted on the network the supernet trains), three picks each: the best arch of an
evolutionary search and of a random search with the same number of scored archs (the supernet's
calibrated accuracy), and the largest arch under the budget (the most MACs found by the same
evolutionary search scoring MACs instead of the supernet). Each pick is trained stand-alone with
the benchmark's ground-truth recipe for 3 seeds, and fine-tuned from the supernet's weights with
the same recipe (`export --finetune`, 1 seed); its stand-alone accuracy (mean and sd over the seeds)
is placed among the ground-truth archs under the same budget (the share it beats, the best of them),
beside the supernet's score of the pick. Everything resumes after a kill (search histories, the
stand-alone runs log, one file per fine-tuned pick). ``--bench`` takes another benchmark folder
(its gt.json and recipe.yaml; files written to its search/), ``--config`` the supernet config trained
when the checkpoint (default ``runs/<config name>/checkpoint.pdparams``) does not exist yet.

    python tools/search_evidence.py [--bench fmnist-r20] [--config configs/quickstart_fmnist_r20.yaml]
                                    [--checkpoint CKPT] [--evaluations 500] [--workers 2]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from paddle_supernet.quiet_import import quiet_paddle_import  # noqa: E402

quiet_paddle_import()  # before anything below imports Paddle
PERCENTILES = (25, 50, 75)
PICKS = ("evolution", "random", "largest")
SEEDS = (0, 1, 2)  # of each pick's stand-alone training


def cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "paddle_supernet", *args], cwd=REPO, check=True)


def budgets(space, variant) -> dict:
    codes = space.sample_unique(10_000, 0)
    macs = np.array([space.macs(code, **variant) for code in codes], dtype=float)
    return {p: float(np.percentile(macs, p)) for p in PERCENTILES}


def largest_under(space, bound: float, variant, evaluations: int) -> str:
    """The most MACs under ``bound`` an evolutionary search scoring MACs finds (no supernet involved)."""
    from paddle_supernet.search import Constraint, run_search

    result = run_search(space, lambda code: float(space.macs(code, **variant)), [Constraint("macs", bound)],
                        "evolution", evaluations, seed=0, variant=variant)
    return result.best[0][0]


def pooled_comparisons(per_seed: list[dict], percentiles: list) -> list[str]:
    """Each pair of picks' stand-alone difference averaged over the budgets, with a 95% interval from
    the pooled seed-to-seed spread of the runs (normal approximation; seeds are the only noise a
    fixed pick's accuracy has): which differences 3 seeds x 3 budgets separate."""
    runs = {key: np.array([seed[key] for seed in per_seed]) for key in per_seed[0]}
    seeds = len(per_seed)
    sd = float(np.sqrt(np.mean([np.var(v, ddof=1) for v in runs.values()])))  # pooled within-pick
    se = sd * np.sqrt(2 / seeds) / np.sqrt(len(percentiles))  # a difference of seed means, averaged over budgets
    lines = [f"Averaged over the {len(percentiles)} budgets (pooled seed sd of one run {100 * sd:.2f} points; "
             "95% interval +-1.96 standard errors; *separated* when it excludes 0):", "",
             "| comparison | difference (points) | 95% interval | separated |", "|---|---|---|---|"]
    for a, b in (("evolution", "random"), ("evolution", "largest"), ("random", "largest")):
        diff = 100 * float(np.mean([runs[f"p{p}_{a}"].mean() - runs[f"p{p}_{b}"].mean() for p in percentiles]))
        half = 100 * 1.96 * se
        lines.append(f"| {a} - {b} | {diff:+.2f} | [{diff - half:+.2f}, {diff + half:+.2f}] | "
                     f"{'yes' if abs(diff) > half else 'no'} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", default="fmnist-r20", help="a folder of benchmarks/ (gt.json, recipe.yaml)")
    parser.add_argument("--config", default="configs/quickstart_fmnist_r20.yaml",
                        help="the supernet trained when the checkpoint does not exist yet")
    parser.add_argument("--checkpoint", help="default: runs/<config name>/checkpoint.pdparams")
    parser.add_argument("--evaluations", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    from paddle_supernet.engine.checkpoint import load_checkpoint
    from paddle_supernet.io.atomic import atomic_write_text
    from paddle_supernet.io.challenge_json import ArchEntry, read_arch_file, write_arch_file
    from paddle_supernet.proxies import model_variant
    from paddle_supernet.spaces import get_space

    bench = REPO / "benchmarks" / args.bench
    if not (bench / "gt.json").exists() or not (bench / "recipe.yaml").exists():
        parser.error(f"--bench {args.bench}: {bench} has no gt.json and recipe.yaml")
    out = bench / "search"  # committed evidence; the runs (not committed) below
    runs = REPO / "runs" / ("search_evidence" if args.bench == "fmnist-r20" else f"search_evidence_{args.bench}")
    args.checkpoint = args.checkpoint or f"runs/{Path(args.config).stem}/checkpoint.pdparams"
    checkpoint = REPO / args.checkpoint
    if not checkpoint.exists():  # the quick-start supernet
        cli("train", "--config", args.config, "--run-dir", str(checkpoint.parent))
    cfg = load_checkpoint(checkpoint)["meta"]["config"]
    space = get_space(cfg["space"])
    variant = model_variant(cfg["model"], cfg["data"]["image_size"])
    bounds = budgets(space, variant)
    picks, supernet_scores = {}, {}
    for p, bound in bounds.items():
        for method in ("evolution", "random"):
            folder = runs / f"p{p}_{method}"
            if not (folder / "best.json").exists():
                cli("search", "--checkpoint", str(checkpoint), "--budget", f"macs={bound:.0f}", "--method", method,
                    "--evaluations", str(args.evaluations), "--out-dir", str(folder))
            best = read_arch_file(folder / "best.json", space)["arch1"]
            picks[f"p{p}_{method}"], supernet_scores[f"p{p}_{method}"] = best.arch, best.acc
        picks[f"p{p}_largest"] = largest_under(space, round(bound), variant, args.evaluations)
    out.mkdir(parents=True, exist_ok=True)
    names = {f"arch{i + 1}": key for i, key in enumerate(picks)}  # challenge keys; picks.names.json says which
    write_arch_file(out / "picks.json", {arch: ArchEntry(picks[key], 0.0) for arch, key in names.items()})
    atomic_write_text(out / "picks.names.json", json.dumps(names, indent=1) + "\n")
    cli("standalone", "--config", str(bench / "recipe.yaml"), "--archs", str(out / "picks.json"),
        "--out", str(out / "picks_standalone.json"), "--seeds", *map(str, SEEDS), "--workers", str(args.workers))
    finetuned = {}
    for key, code in picks.items():
        folder = runs / "finetuned" / key
        if not (folder / "export.json").exists():
            cli("export", "--checkpoint", str(checkpoint), "--arch", code, "--out", str(folder),
                "--finetune", str(bench / "recipe.yaml"))
        finetuned[key] = json.loads((folder / "export.json").read_text())["finetune"]["acc"]
    per_seed = [{names[arch]: entry.acc for arch, entry in read_arch_file(out / f"picks_standalone.seed{s}.json",
                                                                          space).items()} for s in SEEDS]
    standalone = {key: float(np.mean([seed[key] for seed in per_seed])) for key in picks}  # = picks_standalone.json
    spread = {key: float(np.std([seed[key] for seed in per_seed], ddof=1)) for key in picks}
    gt = read_arch_file(bench / "gt.json", space)
    rows = []
    for p, bound in bounds.items():
        under = sorted(entry.acc for entry in gt.values() if space.macs(entry.arch, **variant) <= bound)
        for method in PICKS:
            key = f"p{p}_{method}"
            acc = standalone[key]
            rows.append({"budget_percentile": p, "macs_bound": round(bound), "pick": method, "code": picks[key],
                         "macs": space.macs(picks[key], **variant), "supernet_score": supernet_scores.get(key),
                         "standalone_acc": acc, "standalone_sd_over_seeds": spread[key],
                         "finetuned_acc": finetuned[key], "gt_archs_under_budget": len(under),
                         "gt_best_under_budget": under[-1] if under else None,
                         "beats_gt_share": float(np.mean([acc > a for a in under])) if under else None})
    atomic_write_text(out / "summary.json", json.dumps({"checkpoint": args.checkpoint, "evaluations": args.evaluations,
                                                        "rows": rows}, indent=1) + "\n")
    lines = ["| MACs budget (percentile) | pick | MACs | supernet score | stand-alone acc (mean ± sd, 3 seeds) | fine-tuned from "
             "the supernet (1 seed) | beats this share of the ground-truth archs under the budget | the best of "
             "them |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        share = "-" if r["beats_gt_share"] is None else f"{r['beats_gt_share']:.0%} of {r['gt_archs_under_budget']}"
        score = "-" if r["supernet_score"] is None else f"{r['supernet_score']:.4f}"
        best = "-" if r["gt_best_under_budget"] is None else f"{r['gt_best_under_budget']:.4f}"
        lines.append(f"| {r['macs_bound']:,} (p{r['budget_percentile']}) | {r['pick']} | {r['macs']:,} | {score} | "
                     f"{r['standalone_acc']:.4f} ± {r['standalone_sd_over_seeds']:.4f} | {r['finetuned_acc']:.4f} | {share} | {best} |")
    lines += ["", *pooled_comparisons(per_seed, list(bounds))]
    atomic_write_text(out / "table.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
