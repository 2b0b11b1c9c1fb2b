"""Ranking reports: named submissions against a ground truth, with the baselines always present.

The table always has the params and MACs proxy rows and the seed-to-seed
ceiling (the ground truth's two seeds scored against each other), then the noise
ceiling (what a ranker that knew the true accuracies would reach against the
seeds' mean: the level no supernet can beat), and a "Pearson beyond size" column: the partial
correlation with log params and log MACs held fixed, which a pure size proxy
cannot win. One scatter plot per submission (supernet score
against stand-alone accuracy) is written as PNG.

Example:
    >>> write_report("benchmarks/fmnist-r20/gt.json", ["gt.seed0.json", "gt.seed1.json"],
    ...              {"alg1": "sub.json"}, "cvpr21_resnet20", "reports/x", num_classes=10)  # doctest: +SKIP
"""
from __future__ import annotations

from pathlib import Path
from typing import Collection, Mapping

import numpy as np

from .errors import InputError
from .io.atomic import atomic_open, atomic_write_text
from .io.challenge_json import read_arch_file
from .metrics import format_metrics_table, partial_pearson, ranking_metrics, shared_keys
from .noise import noise_summary
from .proxies import PROXY_LABELS, proxy_submission
from .spaces import get_space


def space_for(space_name: str, num_classes: int | None = None):
    """The registered space, counted with ``num_classes`` outputs when given (else the space's default)."""
    return get_space(space_name, **({"num_classes": num_classes} if num_classes else {}))


def only_keys(entries: Mapping, keys: Collection[str] | None) -> dict:
    """``entries`` restricted to ``keys`` (all of them when ``keys`` is None), order kept."""
    if keys is None:
        return dict(entries)
    wanted = set(keys)
    return {key: entry for key, entry in entries.items() if key in wanted}


def beyond_size(submission: Mapping, ground_truth: Mapping, space, variant: Mapping | None = None) -> float:
    """:func:`~paddle_supernet.metrics.partial_pearson` on the shared keys, log params and log MACs held fixed
    (counted on the network ``variant`` describes, e.g. the small-image ResNet48)."""
    variant = dict(variant or {})
    keys = shared_keys(submission, ground_truth)
    sizes = np.log([[space.params(ground_truth[k].arch, **variant), space.macs(ground_truth[k].arch, **variant)]
                    for k in keys])
    return partial_pearson([submission[k].acc for k in keys], [ground_truth[k].acc for k in keys], sizes)


def report_rows(gt_path: str, seed_paths: list[str], submissions: Mapping[str, str], space_name: str,
                num_classes: int | None = None, keys: Collection[str] | None = None,
                variant: Mapping | None = None) -> tuple[dict, dict]:
    """(metrics rows, loaded submissions) for the table: submissions, proxies, ceiling.

    ``keys`` restricts every row to those archs of the ground truth; ``variant`` counts the
    proxies on the network actually trained (e.g. ``{"small_input": True, "width_scale": 0.125}``).
    """
    variant = dict(variant or {})
    space = space_for(space_name, num_classes)
    gt = only_keys(read_arch_file(gt_path, space), keys)
    loaded = {name: read_arch_file(path, space) for name, path in submissions.items()}
    rows = {name: {**ranking_metrics(sub, gt, submission_name=submissions[name], gt_name=gt_path),
                   "beyond_size": beyond_size(sub, gt, space, variant)} for name, sub in loaded.items()}
    for proxy, label in PROXY_LABELS.items():
        sub = proxy_submission(space, gt, proxy, **variant)
        rows[label] = {**ranking_metrics(sub, gt), "beyond_size": beyond_size(sub, gt, space, variant)}
    if len(seed_paths) >= 2:  # the first two seeds against each other; the noise ceiling takes them all
        a, b = (read_arch_file(p, space) for p in seed_paths[:2])
        b = only_keys(b, gt)
        rows["seed-to-seed ceiling"] = {**ranking_metrics(a, b, submission_name=seed_paths[0], gt_name=seed_paths[1]),
                                        "beyond_size": beyond_size(a, b, space, variant)}
    return rows, {**loaded}


def noise_ceiling_line(seed_paths: list[str], keys: Collection[str]) -> str:
    """One markdown line: what a ranker that knew the true accuracies would reach against the mean of the
    ground truth's seeds (``seed_paths``, >= 2) over ``keys`` (:func:`~paddle_supernet.noise.seed_noise`);
    empty with fewer than two seeds. The seed-to-seed row compares one seed with another; this is the
    ceiling of a row scored on their mean."""
    if len(seed_paths) < 2:
        return ""
    files = [read_arch_file(path) for path in seed_paths]
    missing = [(path, key) for path, file in zip(seed_paths, files) for key in keys if key not in file]
    if missing:
        raise InputError("the seed file lacks this arch of the ground truth", file=missing[0][0], key=missing[0][1])
    noise = noise_summary(*([file[key].acc for key in keys] for file in files))
    low, high = noise["perfect_ranker_kendall_95"]
    return (f"Noise ceiling (`paddle-supernet noise`): a ranker that knew the true accuracies would reach Kendall "
            f"{noise['perfect_ranker_kendall']:.3f} [95% over archs: {low:.3f}, {high:.3f}] and Pearson "
            f"{np.sqrt(noise['mean_reliability']):.3f} against this {len(files)}-seed mean over its {len(keys)} archs "
            f"(reliability {noise['mean_reliability']:.2f}, "
            f"sigma_seed {100 * noise['sigma_seed']:.2f} against sigma_arch {100 * noise['sigma_arch']:.2f} points).")


def scatter_png(path: Path, submission: Mapping, gt: Mapping, title: str) -> None:
    """Supernet score (y) against stand-alone accuracy (x), as in the 2021 seed paper's Figure 2."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [k for k in gt if k in submission]
    fig, ax = plt.subplots(figsize=(4.5, 4.0), dpi=110)
    ax.scatter([gt[k].acc for k in keys], [submission[k].acc for k in keys], s=10, alpha=0.7)
    ax.set_xlabel("stand-alone accuracy (ground truth)")
    ax.set_ylabel("supernet score")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_open(path, "wb") as handle:
        fig.savefig(handle, format="png")
    plt.close(fig)


def band_keys(gt: Mapping, space, low: float, high: float, measure: str = "macs",
              variant: Mapping | None = None) -> list[str]:
    """Keys of the archs whose ``measure`` rank lies in the [low, high] quantile band of ``gt``.

    Example: ``band_keys(gt, space, 0.25, 0.75)`` is the middle half by MACs,
    where same-size archs must be told apart (random samples crowd there).
    """
    if not 0.0 <= low < high <= 1.0:
        raise InputError(f"band {low}:{high} must satisfy 0 <= low < high <= 1")
    ordered = sorted(gt, key=lambda key: (getattr(space, measure)(gt[key].arch, **dict(variant or {})), key))
    last = len(ordered) - 1
    return [key for rank, key in enumerate(ordered) if low * last <= rank <= high * last]


def write_report(gt_path: str, seed_paths: list[str], submissions: Mapping[str, str], space_name: str,
                 out_dir: str | Path, num_classes: int | None = None, title: str = "Ranking report",
                 band: tuple[float, float] | None = None, variant: Mapping | None = None) -> str:
    """Write ``report.md`` and ``scatter_<name>.png`` files to ``out_dir``; returns the markdown.

    ``band=(low, high)`` adds a second table restricted to the archs in that
    quantile band of MACs (see :func:`band_keys`).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, loaded = report_rows(gt_path, seed_paths, submissions, space_name, num_classes, variant=variant)
    gt = read_arch_file(gt_path)
    ceiling = noise_ceiling_line(seed_paths, list(gt))
    lines = [f"# {title}", "", f"Ground truth: `{gt_path}`.", "", format_metrics_table(rows), "",
             *([ceiling, ""] if ceiling else [])]
    if band is not None:
        keys = band_keys(gt, space_for(space_name, num_classes), *band, variant=variant)
        band_rows, _ = report_rows(gt_path, seed_paths, submissions, space_name, num_classes, keys, variant)
        ceiling = noise_ceiling_line(seed_paths, keys)
        lines += [f"Only the {len(keys)} archs whose MACs rank lies in the {band[0]:g}-{band[1]:g} quantile band "
                  "(archs of similar size, where random samples crowd):", "", format_metrics_table(band_rows), "",
                  *([ceiling, ""] if ceiling else [])]
    for name, sub in loaded.items():
        png = f"scatter_{_slug(name)}.png"
        scatter_png(out_dir / png, sub, gt, f"{name}: Kendall {rows[name]['kendall']:.3f}, n={rows[name]['n']}")
        lines.append(f"![{name}]({png})")
    text = "\n".join(lines) + "\n"
    atomic_write_text(out_dir / "report.md", text)
    return text


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
