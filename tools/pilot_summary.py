#!/usr/bin/env python3
"""Summarise a stand-alone recipe pilot: one line per recipe folder (recipe.yaml + gt.runs.jsonl).

For each recipe: runs done, mean seconds a run and its median ratio to the reference recipe's on the
same (arch, seed) runs (``--reference``, default ``ref``: runs share the cores alike, so the ratio is
the comparable cost), seed-to-seed Kendall, sigma_seed and sigma_arch
(``paddle-supernet noise``), and the Kendall of the seed mean with the MACs of the network the
recipe trains, with the total depth, with the depth of the last stage (the one at the fewest
pixels), and with the ImageNet accuracies of the archs that
``../shared/data/cvpr22/gt_arch30.json`` holds (archs of the 2022 space only).

    python tools/pilot_summary.py benchmarks/pilot-r48-size [--imagenet ../shared/data/cvpr22/gt_arch30.json]
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy import stats

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from paddle_supernet.quiet_import import quiet_paddle_import  # noqa: E402

quiet_paddle_import()  # before anything below imports Paddle
from paddle_supernet.bootstrap import metric_interval  # noqa: E402
from paddle_supernet.engine.config import load_config  # noqa: E402
from paddle_supernet.io.result_log import ResultLog  # noqa: E402
from paddle_supernet.noise import seed_noise, seeds_from_runs  # noqa: E402
from paddle_supernet.proxies import model_variant  # noqa: E402
from paddle_supernet.spaces import get_space  # noqa: E402


def total_depth(space, code: str) -> int | None:
    """The arch's blocks over all stages (None for a space whose archs have no ``depths``)."""
    arch = space.decode(code)
    return sum(arch.depths) if hasattr(arch, "depths") else None


def last_stage_depth(space, code: str) -> int | None:
    """The blocks of the arch's last stage, the one at the fewest pixels (None without ``depths``)."""
    arch = space.decode(code)
    return arch.depths[-1] if hasattr(arch, "depths") else None


def read_runs(folder: Path) -> list[dict]:
    """The finished runs of a recipe folder's ``gt.runs.jsonl`` (empty without one), read as
    ``standalone`` reads it: a torn last line of a run still being written is left out, not repaired."""
    return ResultLog(folder / "gt.runs.jsonl").rows(repair=False)


def run_seconds(folder: Path) -> dict:
    """``{(key, seed): seconds}`` of a recipe folder's runs log (empty without one)."""
    return {(row["key"], row["seed"]): row["seconds"] for row in read_runs(folder)}


def summarise(folder: Path, imagenet: dict, reference: dict | None = None) -> dict | None:
    """One recipe's figures; ``reference`` (:func:`run_seconds` of the reference recipe) adds the median
    ratio of this recipe's seconds a run to the reference's on the same (arch, seed) runs."""
    rows = read_runs(folder)
    if not rows:
        return None
    cfg = load_config(folder / "recipe.yaml")
    space = get_space(cfg["space"])
    variant = model_variant(cfg["model"], cfg["data"]["image_size"])
    complete, accs = seeds_from_runs(rows, str(folder / "gt.runs.jsonl"))  # the archs every seed finished
    seeds = list(accs)
    out = {"recipe": folder.name, "runs": len(rows), "archs": len(complete),
           "seconds": float(np.mean([r["seconds"] for r in rows]))}
    pairs = [(row["seconds"], reference[(row["key"], row["seed"])]) for row in rows
             if reference and (row["key"], row["seed"]) in reference]
    out["cost_ratio"] = float(np.median([a / b for a, b in pairs])) if pairs else None
    if len(seeds) < 2 or len(complete) < 5:  # the bootstrap intervals need 5 archs
        return out
    table = list(accs.values())
    noise = seed_noise(*table)
    mean = np.mean(table, axis=0)
    code_of = {row["key"]: row["arch"] for row in rows}
    codes = [code_of[k] for k in complete]
    macs = [space.macs(c, **variant) for c in codes]
    depth = [total_depth(space, c) for c in codes] if total_depth(space, codes[0]) is not None else None
    last = [last_stage_depth(space, c) for c in codes] if depth else None
    out.update(kendall_seeds=noise["kendall"], sigma_seed=100 * noise["sigma_seed"], sigma_arch=100 * noise["sigma_arch"],
               kendall_macs=metric_interval([mean], macs),  # of the ground truth (seed mean)
               kendall_depth=float(stats.kendalltau(mean, depth)[0]) if depth else float("nan"),
               kendall_last=float(stats.kendalltau(mean, last)[0]) if last else float("nan"),
               acc_range=(100 * float(mean.min()), 100 * float(mean.max())))
    shared = [i for i, k in enumerate(complete) if k in imagenet and imagenet[k]["arch"] == codes[i]]
    if len(shared) >= 5:  # what a bootstrap over archs needs
        out["kendall_imagenet"] = metric_interval([mean[shared]], [imagenet[complete[i]]["acc"] for i in shared])
        out["imagenet_archs"] = len(shared)
    return out


def _ci(d) -> str:
    return f"{d.estimate:+.2f} [{d.low:+.2f}, {d.high:+.2f}]"


def markdown(results: list[dict]) -> str:
    lines = ["| recipe | runs | archs (all seeds) | s a run | x ref | seed-to-seed Kendall | sigma_seed | sigma_arch | "
             "Kendall with MACs | with depth | with last-stage depth | with ImageNet (archs) | seed-mean range |",
             "|" + "---|" * 13]
    for r in results:
        ratio = "-" if r.get("cost_ratio") is None else f"{r['cost_ratio']:.2f}"
        if "kendall_seeds" not in r:
            lines.append(f"| {r['recipe']} | {r['runs']} | {r['archs']} | {r['seconds']:.0f} | {ratio} |" + " - |" * 8)
            continue
        imnet = f"{_ci(r['kendall_imagenet'])} ({r['imagenet_archs']})" if "kendall_imagenet" in r else "-"
        lines.append(f"| {r['recipe']} | {r['runs']} | {r['archs']} | {r['seconds']:.0f} | {ratio} | {r['kendall_seeds']:.2f} | "
                     f"{r['sigma_seed']:.2f} pt | {r['sigma_arch']:.2f} pt | {_ci(r['kendall_macs'])} | "
                     f"{r['kendall_depth']:+.2f} | {r['kendall_last']:+.2f} | {imnet} | {r['acc_range'][0]:.1f}-{r['acc_range'][1]:.1f}% |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pilot", type=Path)
    parser.add_argument("--imagenet", type=Path, default=REPO.parent / "shared" / "data" / "cvpr22" / "gt_arch30.json")
    parser.add_argument("--reference", default="ref", help="the recipe folder the cost ratio (x ref) is taken against")
    args = parser.parse_args()
    imagenet = json.loads(args.imagenet.read_text()) if args.imagenet.exists() else {}
    reference = run_seconds(args.pilot / args.reference)
    results = [r for r in (summarise(f, imagenet, reference) for f in sorted(args.pilot.iterdir()) if f.is_dir()) if r]
    print(markdown(results))
    if len(imagenet) >= 5:  # the target: how the ImageNet accuracies themselves rank by size
        space = get_space("cvpr22_resnet48")
        codes = [entry["arch"] for entry in imagenet.values()]
        acc = [entry["acc"] for entry in imagenet.values()]
        macs = metric_interval([acc], [space.macs(c) for c in codes])
        depth = stats.kendalltau(acc, [total_depth(space, c) for c in codes])[0]
        last = stats.kendalltau(acc, [last_stage_depth(space, c) for c in codes])[0]
        print(f"\nImageNet accuracies of the {len(codes)} archs of {args.imagenet.name} (official 224x224 network): "
              f"Kendall with MACs {_ci(macs)}, with total depth {depth:+.2f}, with last-stage depth {last:+.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
