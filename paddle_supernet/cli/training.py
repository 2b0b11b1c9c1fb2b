"""Subcommands that train or evaluate supernets: train, evaluate, run (train + evaluate + report).

Paddle is imported only when one of these runs.
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import InputError
from .archs import counting


#: besides eval.*, the keys `evaluate --set` may change (where the data is, how it is read)
EVALUATE_KEYS = ("data.root", "data.workers")


def add_commands(sub) -> None:
    p = sub.add_parser("train", help="train a supernet from a YAML config (resumes after a kill)")
    _config_args(p)
    p.set_defaults(run=run_train)

    p = sub.add_parser("evaluate", help="score an arch list with a checkpoint and write the submission")
    p.add_argument("--checkpoint", required=True, help="a paddle_supernet checkpoint (its config rebuilds model and data)")
    p.add_argument("--archs", required=True, help="challenge-format arch list")
    p.add_argument("--out", required=True, help="submission to write (resumes from OUT.part)")
    p.add_argument("--gt", help="also print ranking metrics against this ground truth")
    p.add_argument("--shard", help="score shard i/n only (every n-th arch from position i; its own part file "
                   "OUT.shard<i>of<n>.part); the shard that completes the set merges them into OUT. Under "
                   "paddle.distributed.launch the ranks take their shards by themselves and rank 0 merges")
    add_eval_overrides(p)
    p.set_defaults(run=run_evaluate)

    p = sub.add_parser("standalone", help="train listed archs from scratch (ground truth); resumes after a kill")
    p.add_argument("--config", required=True, help="YAML recipe (data, optimizer, schedule, model options)")
    p.add_argument("--archs", required=True, help="challenge-format arch list")
    p.add_argument("--out", required=True, help="mean accuracy over seeds; per-seed files and a runs log beside it")
    p.add_argument("--seeds", type=counting(0), nargs="+", default=None, help="training seeds (default: the config's seed)")
    p.add_argument("--workers", type=counting(1), default=1, help="parallel single-threaded processes")
    p.add_argument("--vdl-dir", help="VisualDL folder for every run's accuracy and seconds (default: "
                   "runs/standalone/<out's folder>-<out's stem>/vdl, or none with the recipe's log.visualdl: false)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. schedule.epochs=2 (value parsed as YAML; repeat)")
    p.set_defaults(run=run_standalone_cmd)

    p = sub.add_parser("chain", help="run a chain of stages (each from the previous checkpoint), skipping finished ones")
    p.add_argument("--chain", required=True, help="chain YAML: name, stages [{name, config}], evaluate [stage names]")
    p.add_argument("--run-root", help="default: runs/<chain name>")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a key in every stage but the shared ones (value parsed as YAML; repeat)")
    p.add_argument("--set-all", action="append", default=[], metavar="KEY=VALUE",
                   help="override a key in every stage, the shared ones too (e.g. data.image_size=32); a chain with "
                        "shared stages then needs --shared-root")
    p.add_argument("--shared-root", help="run the shared stages (and write what they export) under this folder, "
                                         "e.g. runs/at32, and point the other stages at them there")
    p.set_defaults(run=run_chain_cmd)

    p = sub.add_parser("export-full", help="write a 2022 checkpoint's largest arch as a state dict in the official "
                                           "ResNet48 layout (like the challenge's resnet48.pdparams)")
    p.add_argument("--checkpoint", required=True, help="a cvpr22_resnet48 paddle_supernet checkpoint")
    p.add_argument("--out", required=True, help="state dict to write (atomically)")
    p.set_defaults(run=run_export_full)

    p = sub.add_parser("run", help="train, evaluate the config's arch list (or every evaluated stage of a chain "
                                   "file), and report against the proxies")
    _config_args(p)
    p.set_defaults(run=run_all)


def _config_args(p) -> None:
    p.add_argument("--config", required=True, help="YAML recipe in configs/")
    p.add_argument("--run-dir", help="default: runs/<name>")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. schedule.epochs=2 (value parsed as YAML; repeat)")


def _load(args):
    from ..engine.config import load_config

    cfg = load_config(args.config, args.set)
    return cfg, Path(args.run_dir or Path("runs") / cfg["name"])


def run_train(args) -> int:
    cfg, run_dir = _load(args)  # config errors are reported before Paddle is imported
    from ..io.guards import check_run_outputs
    from ..pipeline import build_trainer

    check_run_outputs(cfg, run_dir, args.config)
    build_trainer(cfg, run_dir, args.config).fit()
    return 0


def run_evaluate(args) -> int:
    from ..engine.checkpoint import load_checkpoint
    from ..evaluator import Evaluator
    from .archs import print_metrics

    check_eval_overrides(args.set)
    state = load_checkpoint(args.checkpoint)
    from ..plugins import import_modules

    modules = state["meta"].get("config", {}).get("custom_imports") or []
    if modules:  # a checkpoint is a pickle that names code to run: say which
        print(f"[eval] importing the modules {args.checkpoint} names: {', '.join(modules)}", flush=True)
    import_modules(modules, str(args.checkpoint))  # its space's module
    archs = read_arch_list_for(args.archs, state["meta"]["space"], args.checkpoint)  # before loading data
    if args.gt:  # checked now, not after hours of scoring
        gt = read_arch_list_for(args.gt, state["meta"]["space"], args.checkpoint)
        if sum(1 for key in archs if key in gt) < 3:
            raise InputError(f"shares fewer than 3 archs with --archs ({args.archs}); no ranking to compare",
                             file=args.gt, key="--gt")
    meta = state["meta"]
    if not meta.get("finished", True):
        print(f"[eval] warning: {args.checkpoint} is unfinished (step {meta.get('step')} of {meta.get('total_steps')}); "
              "scoring it as it is", file=sys.stderr, flush=True)
    shard, distributed = _evaluation_shard(args.shard)
    evaluator = Evaluator.from_checkpoint(args.checkpoint, args.set, state=state)
    if shard[1] == 1:
        evaluator.evaluate(archs, args.out)
    else:
        from ..io.challenge_json import arch_list_digest
        from ..io.shards import merge_shards, shard_part_path, shards_complete

        evaluator.evaluate(archs, args.out, shard=shard)
        producer = {**evaluator.producer, "arch_list": arch_list_digest(archs)}
        if distributed:
            import paddle.distributed as dist

            dist.barrier()  # every rank's shard is complete
            if shard[0] != 0:
                return 0
        elif not shards_complete(args.out, archs, shard[1]):
            print(f"[eval] shard {shard[0]}/{shard[1]} is complete; the shard that completes the set (or "
                  f"`paddle-supernet merge --shards {shard[1]} --archs {args.archs} --out {args.out}`) writes "
                  f"{args.out}", flush=True)
            return 0
        try:
            merge_shards(args.out, archs, shard[1], producer)
        except InputError:  # another shard finishing at the same moment merged first
            parts = [shard_part_path(args.out, i, shard[1]) for i in range(shard[1])]
            if distributed or not Path(args.out).exists() or any(p.exists() for p in parts):
                raise
    print(f"[eval] wrote {len(archs)} scores to {args.out}")
    if args.gt:
        print_metrics({"supernet": args.out}, args.gt)
    return 0


def add_eval_overrides(p) -> None:
    """The ``--set`` of the commands that score a checkpoint (evaluate, search, export)."""
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override eval.* or data.root / data.workers (value parsed as YAML); other keys are refused")


def check_eval_overrides(overrides: list[str]) -> None:
    """Scoring may change eval.* and the data's location only, never the network trained."""
    allowed = tuple(EVALUATE_KEYS)
    for pair in overrides:
        key = pair.partition("=")[0]
        if not (key.startswith("eval.") or key in allowed):
            raise InputError(f"evaluate may override eval.* and {', '.join(allowed)} only; {key} would change the "
                             "network the checkpoint was trained as", key=f"--set {key}")


def _evaluation_shard(text: str | None) -> tuple[tuple[int, int], bool]:
    """(shard, distributed): ``--shard i/n`` as given, else this rank's under paddle.distributed.launch
    (which then has its collective environment initialised), else the whole list."""
    import paddle.distributed as dist

    from ..io.shards import parse_shard

    world = dist.get_world_size()
    if text is not None:
        shard = parse_shard(text)
        if world > 1:
            from ..errors import InputError

            raise InputError(f"{text!r} given under paddle.distributed.launch ({world} ranks); the ranks take "
                             "their shards by themselves, drop --shard", key="--shard")
        return shard, False
    if world > 1:
        dist.init_parallel_env()
        return (dist.get_rank(), world), True
    return (0, 1), False


def run_export_full(args) -> int:
    from ..nn.official_weights import full_network_state, write_state

    state = full_network_state(args.checkpoint)
    write_state(args.out, state)
    print(f"[export-full] wrote {len(state)} tensors to {args.out}")
    return 0


def read_arch_list_for(path: str, space_name: str, checkpoint: str):
    """The arch list at ``path`` validated against ``space_name``; a list of another space is named as such."""
    from ..errors import InputError
    from ..io.challenge_json import read_arch_file
    from ..spaces import get_space, list_spaces

    try:
        return read_arch_file(path, get_space(space_name))
    except InputError as err:
        for other in list_spaces():
            if other == space_name:
                continue
            try:
                read_arch_file(path, get_space(other))
            except InputError:
                continue
            raise InputError(f"is a {other} arch list and the checkpoint {checkpoint} is a {space_name} supernet",
                             file=path) from None
        raise err


def run_standalone_cmd(args) -> int:
    from ..engine.config import load_config
    from ..io.challenge_json import read_arch_file
    from ..spaces import get_space
    from ..standalone import default_vdl_dir, run_standalone

    cfg = load_config(args.config, args.set)
    archs = read_arch_file(args.archs, get_space(cfg["space"]))
    vdl_dir = args.vdl_dir or (default_vdl_dir(args.out) if cfg["log"]["visualdl"] else None)
    run_standalone(cfg, archs, args.out, args.seeds or [cfg["seed"]], args.workers, vdl_dir=vdl_dir)
    print(f"[standalone] wrote {args.out}")
    return 0


def run_all(args) -> int:
    """Train, evaluate the arch list (sampled when none is given), compare with the proxies.

    ``--config`` may also be a chain file: every stage runs (each from the previous one's
    checkpoint unless it says otherwise) and each evaluated stage is reported.
    """
    import yaml

    from ..io.guards import check_run_outputs
    from ..pipeline import is_chain, preflight, run_chain, train_and_evaluate

    try:
        is_chain_file = is_chain(yaml.safe_load(Path(args.config).read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError):
        is_chain_file = False  # load_config reports the problem with the file named
    if is_chain_file:
        results = run_chain(args.config, args.set, args.run_dir)
        for name, (trainer, archs, submission) in results.items():
            _report_against_proxies(trainer.cfg, trainer.space, archs, submission, trainer.run_dir, name,
                                    trainer.train_data.num_classes)
        return 0
    cfg, run_dir = _load(args)
    preflight(cfg, args.config)
    check_run_outputs(cfg, run_dir, args.config)
    trainer, archs, submission = train_and_evaluate(cfg, run_dir, config_file=args.config)
    if submission is not None:  # None on data-parallel ranks other than 0
        _report_against_proxies(cfg, trainer.space, archs, submission, run_dir, num_classes=trainer.train_data.num_classes)
    return 0


def _report_against_proxies(cfg: dict, space, archs, submission, run_dir: Path, title: str = "",
                            num_classes: int | None = None) -> None:
    """Write the params and MACs proxies of ``archs`` beside the submission and print the agreement;
    with ``eval.gt``, the supernet and both proxies against that stand-alone ground truth (and the
    seed-to-seed ceiling when its ``.seed0``/``.seed1`` files are beside it)."""
    from ..io.challenge_json import write_arch_file
    from ..metrics import format_metrics_table, ranking_metrics
    from ..proxies import model_variant, proxy_submission
    from ..report import report_rows
    from ..standalone import seed_path

    variant = model_variant(cfg["model"], cfg["data"]["image_size"])
    rows = {}
    for proxy in ("params", "macs"):  # counted on the network the config builds
        proxy_sub = proxy_submission(space, archs, proxy, **variant)
        write_arch_file(run_dir / f"proxy_{proxy}.json", proxy_sub)
        rows[f"supernet vs {proxy} proxy"] = ranking_metrics(submission, proxy_sub)
    print(f"[run] {title + ': ' if title else ''}submission: {run_dir / 'submission.json'}")
    print(format_metrics_table(rows))
    gt = cfg["eval"].get("gt")
    if gt:
        seeds = [str(seed_path(Path(gt), s)) for s in (0, 1)]
        seeds = seeds if all(Path(p).exists() for p in seeds) else []
        rows, _ = report_rows(gt, seeds, {"supernet": str(run_dir / "submission.json")}, cfg["space"], num_classes,
                              variant=variant)
        print(f"[run] against the stand-alone ground truth {gt} (\"beyond size\": partial correlation with log "
              "params and log MACs held fixed, what size alone cannot explain):")
        print(format_metrics_table(rows))


def run_chain_cmd(args) -> int:
    from ..pipeline import run_chain

    results = run_chain(args.chain, args.set, args.run_root, every_stage=args.set_all, shared_root=args.shared_root)
    print(f"[chain] done; evaluated stages: {', '.join(results) or 'none'}")
    return 0
