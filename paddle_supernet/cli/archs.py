"""Subcommands on arch lists and submissions: sample, proxy, score, merge."""
from __future__ import annotations


import argparse
import json
import math
from pathlib import Path

from ..errors import InputError
from ..io.challenge_json import arch_list_from_codes, merge_parts, read_arch_file, write_arch_file
from ..metrics import format_metrics_table, ranking_metrics, shared_keys
from ..proxies import PROXIES, parse_width_map, proxy_submission
from ..spaces import get_space, list_spaces


SPACES_HELP = f"search space: {', '.join(list_spaces())}, or one a module given to --import registers"


#: the most archs `sample` draws: beyond it a list is better read from a file than drawn (and a space
#: smaller than the request is refused by the space)
MAX_SAMPLE = 1_000_000


def counting(low: int, high: int | None = None):
    """An argparse type: an integer in [low, high]."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be an integer {'>= ' + str(low) if high is None else f'in [{low}, {high}]'}, "
                                             f"got {text!r}")
        return value
    return parse


def positive_number(text: str) -> float:
    """An argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def add_commands(sub) -> None:
    p = sub.add_parser("sample", help="write a challenge-format list of distinct sampled archs")
    p.add_argument("--space", required=True, help=SPACES_HELP)
    p.add_argument("--n", type=counting(1, MAX_SAMPLE), required=True,
                   help=f"number of distinct archs (at most {MAX_SAMPLE:,})")
    p.add_argument("--seed", type=counting(0), default=0, help="seed of the local RNG the archs are drawn from (default 0)")
    p.add_argument("--distribution", default=None, help="space-specific (cvpr22_resnet48: test or free)")
    p.add_argument("--spread", choices=("macs", "params"),
                   help="pick archs evenly across this measure's range (from a 50x larger seeded pool)")
    p.add_argument("--spacing", choices=("quantile", "log"), default="quantile",
                   help="with --spread: quantile = evenly spaced quantiles of uniform draws; "
                        "log = evenly spaced in log(measure) from the smallest to the largest arch")
    p.add_argument("--from", dest="from_list", metavar="ARCH_LIST",
                   help="pick the archs from this challenge arch list (keys and codes kept) at evenly spaced "
                        "quantiles of --spread (default macs), instead of sampling")
    p.add_argument("--keep", metavar="ARCH_LIST",
                   help="with --from: keep every arch of this list (its keys and codes must be those of --from) "
                        "and pick --n more from the rest of --from")
    _resnet48_args(p)
    p.add_argument("--out", required=True, help="arch list to write (challenge format, atomically)")
    p.set_defaults(run=run_sample)

    p = sub.add_parser("proxy", help="score an arch list by a zero-cost proxy (params or MACs)")
    p.add_argument("--space", required=True, help=SPACES_HELP)
    p.add_argument("--proxy", required=True, choices=PROXIES, help="params: trainable parameters; macs: "
                   "multiply-accumulates of one forward pass")
    p.add_argument("--archs", required=True, help="challenge-format arch list")
    p.add_argument("--width-map", help="count the options-enhanced network, e.g. 4:5,8:9 (cvpr21_resnet20)")
    p.add_argument("--prelu", action="store_true", help="count one PReLU slope per block (cvpr21_resnet20)")
    _resnet48_args(p)
    p.add_argument("--out", required=True, help="submission to write: the list with acc = the proxy value")
    p.set_defaults(run=run_proxy)

    p = sub.add_parser("score", help="ranking metrics of submissions against a ground truth")
    p.add_argument("--submission", required=True, action="append",
                   help="submission file (repeat for several); NAME=PATH names the row")
    p.add_argument("--gt", required=True, help="ground-truth file (same schema)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(run=run_score)

    p = sub.add_parser("report", help="markdown table + scatter plots: submissions vs ground truth, proxies, ceiling")
    p.add_argument("--gt", required=True, help="ground truth (e.g. the mean over seeds)")
    p.add_argument("--seeds", nargs="+", required=True, metavar="SEED_FILE",
                   help="the ground truth of each training seed, two or more: the first two give the seed-to-seed "
                        "row, all of them the noise ceiling")
    p.add_argument("--space", required=True, help=SPACES_HELP)
    p.add_argument("--num-classes", type=int, help="classifier size for the proxies (default: the space's)")
    p.add_argument("--submission", action="append", default=[], help="NAME=PATH (repeat)")
    p.add_argument("--out-dir", required=True, help="folder for report.md and the scatter plots")
    p.add_argument("--title", default="Ranking report", help="the report's heading")
    p.add_argument("--band", metavar="LOW:HIGH",
                   help="add a table restricted to this MACs-rank quantile band, e.g. 0.25:0.75")
    _resnet48_args(p)
    p.set_defaults(run=run_report)

    p = sub.add_parser("noise", help="seed noise of a ground truth: sigma_seed, sigma_arch, seed-to-seed agreement")
    p.add_argument("seed_files", nargs="*", metavar="SEED_FILE", help="the same archs trained with two or more seeds")
    p.add_argument("--runs", metavar="RUNS_LOG", help="instead of seed files: a stand-alone runs log "
                   "(gt.runs.jsonl), also while it is being trained; the archs every seed has finished")
    p.set_defaults(run=run_noise)

    p = sub.add_parser("merge", help="merge partial result files (or an evaluation's shard part files) into one submission")
    p.add_argument("parts", nargs="*", help="result files (challenge format); every key must appear in exactly one, "
                   "with the same code wherever it appears; without --archs the union is written as it is")
    p.add_argument("--shards", type=int, help="merge the N shard part files OUT.shard<i>of<N>.part of `evaluate "
                   "--shard` (needs --archs, the list they scored)")
    p.add_argument("--archs", help="reference arch list the union must cover exactly (same keys and codes)")
    p.add_argument("--out", required=True, help="merged submission to write")
    p.set_defaults(run=run_merge)


def _resnet48_args(p) -> None:
    p.add_argument("--small-input", action="store_true", help="count the small-image ResNet48 (cvpr22_resnet48)")
    p.add_argument("--width-scale", type=positive_number, help="count ResNet48 at this width scale (cvpr22_resnet48)")
    p.add_argument("--image-size", type=counting(1), help="count at this input side (cvpr22_resnet48)")


def _resnet48_variant(args) -> dict:
    """Counting options of the small-image ResNet48 given on the command line."""
    given = {k: v for k, v in (("small_input", args.small_input), ("width_scale", args.width_scale),
                               ("image_size", args.image_size)) if v not in (None, False)}
    if given and args.space != "cvpr22_resnet48":
        raise InputError(f"--small-input, --width-scale and --image-size count cvpr22_resnet48 networks, not {args.space}")
    return given


def run_sample(args) -> int:
    space = get_space(args.space)
    variant = _resnet48_variant(args)
    if args.from_list:
        if args.spacing != "quantile":
            raise InputError("picks from a list at evenly spaced quantiles of its own sizes; --spacing log applies "
                             "to sampled archs only", key="--spacing")
        source = read_arch_file(args.from_list, space)
        kept = _kept_archs(args.keep, source, space) if args.keep else set()
        keys = [k for k in source if k not in kept]
        picks = [keys[i] for i in space.pick_spread([source[k].arch for k in keys], args.n, args.spread or "macs",
                                                    **variant)]  # ascending in size
        picked = set(picks)
        if args.keep:  # the list's own order, the kept archs among the picked ones
            chosen = {k: source[k] for k in source if k in kept or k in picked}
        else:  # ascending in size (the committed fmnist-r48 list)
            chosen = {k: source[k] for k in picks}
        write_arch_file(args.out, chosen)
        print(f"wrote {len(chosen)} archs of {args.from_list} to {args.out}"
              + (f" ({len(kept)} of {args.keep} kept, {len(picks)} picked)" if args.keep else ""))
        return 0
    if args.keep:
        raise InputError("keeps archs of a list only when picking from another (--from)", key="--keep")
    if args.spread:
        if variant:
            raise InputError("sampled archs are spread by the official network's sizes; to spread them by a "
                             "small-image variant, sample a larger list and pick from it with --from", key="--spread")
        codes = space.sample_spread(args.n, args.seed, args.spread, distribution=args.distribution,
                                   spacing=args.spacing)
    else:
        codes = space.sample_unique(args.n, args.seed, args.distribution)
    write_arch_file(args.out, arch_list_from_codes(codes, space.placeholder_acc))
    print(f"wrote {len(codes)} archs of {args.space} to {args.out}")
    return 0


def _kept_archs(path: str, source: dict, space) -> set:
    """Keys of the arch list at ``path``, each checked to be in ``source`` with the same code."""
    kept = read_arch_file(path, space)
    for key, entry in kept.items():
        if key not in source:
            raise InputError("is not in the --from list", file=path, key=key)
        if source[key].arch != entry.arch:
            raise InputError(f"has code {entry.arch}, the --from list {source[key].arch}", file=path, key=key)
    return set(kept)


def run_proxy(args) -> int:
    space = get_space(args.space)
    archs = read_arch_file(args.archs, space)
    if (args.width_map or args.prelu) and args.space != "cvpr21_resnet20":
        raise InputError(f"--width-map and --prelu count cvpr21_resnet20 networks; {args.space} has neither")
    variant = {"width_map": parse_width_map(args.width_map)} if args.width_map else {}
    if args.prelu:
        variant["prelu"] = True
    variant.update(_resnet48_variant(args))
    write_arch_file(args.out, proxy_submission(space, archs, args.proxy, **variant))
    print(f"wrote {args.proxy} proxy scores for {len(archs)} archs to {args.out}")
    return 0


def named_paths(values: list[str]) -> dict[str, str]:
    """``["a=x.json", "y.json"]`` -> ``{"a": "x.json", "y.json": "y.json"}``."""
    out = {}
    for value in values:
        name, sep, path = value.partition("=")
        name = name if sep else value
        if name in out:
            raise InputError(f"two submissions are named {name!r} ({out[name]} and {path if sep else value}); give each "
                             "its own NAME=PATH", key="--submission")
        out[name] = path if sep else value
    return out


def print_metrics(submissions: dict, gt_path: str, as_json: bool = False) -> dict:
    """Score named submission files against ``gt_path`` and print a table (or JSON)."""
    gt = read_arch_file(gt_path)
    rows = {name: ranking_metrics(read_arch_file(path), gt, submission_name=path, gt_name=gt_path)
            for name, path in submissions.items()}
    print(json.dumps(rows, indent=2, sort_keys=True) if as_json else format_metrics_table(rows))
    return rows


def run_score(args) -> int:
    print_metrics(named_paths(args.submission), args.gt, args.json)
    return 0


def run_merge(args) -> int:
    if args.shards is not None:
        from ..io.shards import merge_shards

        if args.parts or not args.archs or args.shards < 2:
            raise InputError("--shards N (N >= 2) merges OUT's shard part files: give --archs and --out, no part files",
                             key="--shards")
        merged = merge_shards(args.out, read_arch_file(args.archs), args.shards)
        print(f"merged {len(merged)} archs from {args.shards} shards into {args.out}")
        return 0
    if not args.parts:
        raise InputError("give the result files to merge (or --shards N)", key="parts")
    reference = read_arch_file(args.archs) if args.archs else None
    merged = merge_parts(args.parts, reference, reference_name=args.archs or "reference arch list")
    write_arch_file(args.out, merged)
    print(f"merged {len(merged)} archs from {len(args.parts)} files into {args.out}")
    return 0


def run_report(args) -> int:
    from ..report import write_report

    if len(args.seeds) < 2:
        raise InputError("--seeds needs the ground truth of two or more training seeds", file=args.seeds[0])
    print(write_report(args.gt, args.seeds, named_paths(args.submission), args.space, args.out_dir,
                       args.num_classes, args.title, parse_band(args.band) if args.band else None,
                       _resnet48_variant(args)))
    return 0


def parse_band(text: str) -> tuple[float, float]:
    """``"0.25:0.75"`` -> ``(0.25, 0.75)``; :class:`InputError` on anything else."""
    low, sep, high = text.partition(":")
    try:
        return float(low), float(high)
    except ValueError:
        raise InputError(f"--band {text!r}: expected LOW:HIGH quantiles such as 0.25:0.75") from None


def run_noise(args) -> int:
    from ..noise import noise_summary

    if args.runs:
        return _noise_of_runs(args)
    if len(args.seed_files) < 2:
        raise InputError("give at least two seed files (the same archs trained with different seeds)",
                         file=args.seed_files[0])
    resolved = [Path(path).resolve() for path in args.seed_files]
    twice = next((path for i, path in enumerate(args.seed_files) if resolved[i] in resolved[:i]), None)
    if twice is not None:
        raise InputError("is given twice: seed noise needs different seeds' files", file=twice)
    files = [read_arch_file(path) for path in args.seed_files]
    common = list(files[0])  # the archs every seed file has (a code differing from the first file's: an error)
    for other, path in zip(files[1:], args.seed_files[1:]):
        shared = set(shared_keys(other, files[0], path, args.seed_files[0]))
        common = [key for key in common if key in shared]
    if len(common) < 3:
        raise InputError(f"the seed files share {len(common)} archs; seed noise needs at least 3", file=args.seed_files[0])
    for f, path in zip(files, args.seed_files):
        if len({f[k].acc for k in common}) == 1:
            raise InputError(f"all {len(common)} accuracies are equal: not a seed's results (an arch list?)", file=path)
    print(json.dumps(noise_summary(*([f[k].acc for k in common] for f in files)), indent=2))
    return 0


def _noise_of_runs(args) -> int:
    from ..io.result_log import ResultLog
    from ..noise import noise_summary, seeds_from_runs

    if args.seed_files:
        raise InputError("give seed files or --runs, not both", file=args.seed_files[0])
    log = ResultLog(args.runs)
    if not log.path.is_file():
        raise InputError("no such runs log", file=args.runs)
    keys, accs = seeds_from_runs(log.rows(repair=False), args.runs)
    if len(accs) < 2 or len(keys) < 3:
        raise InputError(f"holds {len(keys)} archs finished for each of {len(accs)} seed(s); seed noise needs at "
                         "least 3 archs and 2 seeds", file=args.runs)
    print(json.dumps({**noise_summary(*accs.values()), "seed_list": list(accs)}, indent=2))
    return 0
