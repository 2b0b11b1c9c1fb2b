"""``search`` (the best archs of a trained supernet under budgets) and ``export`` (one arch as a
Paddle Inference model). Paddle is imported only when one of these runs.

Example:
    $ paddle-supernet search --checkpoint runs/X/checkpoint.pdparams --budget macs=2e7 --evaluations 500 --out-dir runs/X/search
    $ paddle-supernet export --checkpoint runs/X/checkpoint.pdparams --arch CODE --out runs/X/deploy
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from ..errors import InputError
from .archs import counting
from .training import add_eval_overrides


def add_commands(sub) -> None:
    p = sub.add_parser("search", help="the best archs of a trained supernet under params / MACs budgets "
                                      "(evolutionary or random search; resumes after a kill)")
    p.add_argument("--checkpoint", required=True, help="a paddle_supernet checkpoint")
    p.add_argument("--budget", action="append", default=[], metavar="COST=BOUND",
                   help="an upper bound: params=N or macs=N, counted on the network the supernet trains, or latency=MS of "
                        "its deployed stand-alone network here, batch 1 (repeatable)")
    p.add_argument("--method", choices=("evolution", "random"), default="evolution",
                   help="evolution (default) or random search with the same number of scored archs")
    p.add_argument("--evaluations", type=counting(1), default=1000, help="archs scored (default 1000)")
    p.add_argument("--seed", type=counting(0), default=0, help="seed of the search's local RNG (default 0)")
    p.add_argument("--population", type=counting(1), default=50, help="evolution: first population (default 50)")
    p.add_argument("--parents", type=counting(1), default=10, help="evolution: top-k parents (default 10)")
    p.add_argument("--mutations", type=counting(0), default=25, help="evolution: mutants a generation (default 25)")
    p.add_argument("--crossovers", type=counting(0), default=25, help="evolution: crossovers a generation (default 25)")
    p.add_argument("--mutate-prob", type=float, default=0.1, help="evolution: per-choice mutation probability (0.1)")
    p.add_argument("--top", type=counting(1), default=5, help="best archs to write (default 5)")
    p.add_argument("--latency-table", metavar="FILE", help="per-unit latencies of the deployed network here "
                   "(JSON; measured through Paddle Inference as needed and kept): needed by --budget latency=MS")
    p.add_argument("--latency-threads", type=counting(1), default=1, help="threads the latency is measured with (1)")
    p.add_argument("--out-dir", required=True, help="history.jsonl (resumable), best.json, summary.json, search.png")
    add_eval_overrides(p)
    p.set_defaults(run=run_search_cmd)

    p = sub.add_parser("export", help="one arch of a supernet as a Paddle Inference model, BN recalibrated")
    p.add_argument("--checkpoint", required=True, help="a paddle_supernet checkpoint")
    p.add_argument("--arch", required=True, help="the arch code (or KEY of --archs)")
    p.add_argument("--archs", help="an arch list to read --arch from as a key")
    p.add_argument("--out", required=True, help="folder: model.json / model.pdmodel + model.pdiparams, export.json")
    p.add_argument("--finetune", metavar="CONFIG", help="first train the exported net with this stand-alone recipe "
                   "(data, optimizer, schedule), starting from the supernet's weights instead of from scratch")
    add_eval_overrides(p)
    p.set_defaults(run=run_export)


def _checkpoint(checkpoint: str, overrides: list[str]):
    """The checkpoint (its modules imported, named first) and its space, before any data is loaded."""
    from ..engine.checkpoint import load_checkpoint
    from ..plugins import import_modules
    from ..spaces import get_space
    from .training import check_eval_overrides

    check_eval_overrides(overrides)
    state = load_checkpoint(checkpoint)
    modules = state["meta"]["config"].get("custom_imports") or []
    if modules:  # a checkpoint is a pickle that names code to run: say which
        print(f"importing the modules {checkpoint} names: {', '.join(modules)}", flush=True)
    import_modules(modules, str(checkpoint))
    return state, get_space(state["meta"]["config"]["space"])


def run_search_cmd(args) -> int:
    from ..engine.progress import Progress, ScalarLog
    from ..evaluator import Evaluator
    from ..io.atomic import atomic_write_text
    from ..io.challenge_json import ArchEntry, write_arch_file
    from ..proxies import model_variant
    from ..search import Constraint, check_satisfiable, plot_search, run_search

    constraints = [Constraint.parse(text) for text in args.budget]
    if not constraints:
        raise InputError("give at least one budget, e.g. --budget macs=2e7", key="--budget")
    state, space = _checkpoint(args.checkpoint, args.set)
    cfg = state["meta"]["config"]
    variant = model_variant(cfg["model"], cfg["data"]["image_size"])
    distribution = cfg["model"].get("distribution")
    latency = _latency_table(args, state["meta"], space) if args.latency_table else None
    check_satisfiable(space, constraints, distribution, variant, latency)  # before any data is loaded or arch scored
    ev = Evaluator.from_checkpoint(args.checkpoint, args.set, state=state)
    out = Path(args.out_dir)
    header = {"search": 1, "producer": ev.producer, "method": args.method,
              "budgets": [[c.cost, c.bound] for c in constraints], "seed": args.seed, "evaluations": args.evaluations,
              "evolution": [args.population, args.parents, args.mutations, args.crossovers, args.mutate_prob],
              **({"latency": {"table": str(args.latency_table), **latency.header}} if latency else {})}
    score_many, main = _generation_over_ranks(ev.score)
    history = _shared_history(out / "history.jsonl", header, main, distributed=score_many is not None)
    if history.scores and main:
        print(f"[search] resuming: {len(history.scores)} archs already scored in {out / 'history.jsonl'}", flush=True)
    progress = Progress("search", args.evaluations, start=len(history.scores), unit="arch", per="h")
    scalars = ScalarLog(out / "vdl", enabled=cfg["log"].get("visualdl", True) and main)
    best_so_far = [float("-inf")]

    def report(n: int, last: float) -> None:  # the progress line, and VisualDL (score and best so far)
        if not main:
            return
        best_so_far[0] = max(best_so_far[0], last)
        progress.update(n, last=last, best=best_so_far[0])
        scalars.add("search/score", last, n)
        scalars.add("search/best", best_so_far[0], n)

    started, resumed_at = time.monotonic(), len(history.scores)
    try:
        result = run_search(space, ev.score, constraints, args.method, args.evaluations, args.seed, args.population,
                            args.parents, args.mutations, args.crossovers, args.mutate_prob, distribution, variant,
                            history, report, args.top, score_many, latency)
    finally:
        scalars.close()
    if not main:
        return 0
    best = {f"arch{i + 1}": ArchEntry(code, value) for i, (code, value) in enumerate(result.best)}
    write_arch_file(out / "best.json", best)
    rows = {row["code"]: row for row in result.history}
    summary = {"method": args.method, "budgets": header["budgets"], "scored": len(result.history), "seed": args.seed,
               "scored_here": len(result.history) - resumed_at, "seconds_here": round(time.monotonic() - started, 1),
               "best": [rows[code] for code, _ in result.best]}
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    plot_search(result, constraints[0].cost, out / "search.png",
                f"{args.method} search, {constraints[0].cost} <= {constraints[0].bound:g}", constraints[0].bound)
    print(f"[search] {len(result.history)} archs scored; best {result.best[0][1]:.4f}: {result.best[0][0]}")
    print(f"[search] wrote {out / 'best.json'}, {out / 'summary.json'}, {out / 'search.png'}")
    return 0


def _shared_history(path: Path, header: dict, main: bool, distributed: bool):
    """The search history: rank 0 writes (or checks) it; under launch the other ranks then read it."""
    from ..search import SearchHistory

    history = SearchHistory(path, header) if main else None
    if distributed:
        import paddle.distributed as dist

        dist.barrier()
    return history if main else SearchHistory(path, header, write=False)


def _latency_table(args, meta: dict, space):
    """The search's latency table: the checkpoint's stand-alone network at its input size, batch 1.
    Under paddle.distributed.launch it is read only (every rank must predict alike): build it first
    in one process."""
    import paddle.distributed as dist

    from ..latency import LatencyTable
    from ..models import build_standalone

    cfg, size = meta["config"], meta["config"]["data"]["image_size"]
    return LatencyTable(args.latency_table, space.name, lambda code: build_standalone(cfg, code, meta["num_classes"], 0),
                        [1, 3, size, size], args.latency_threads, frozen=dist.get_world_size() > 1)


def _generation_over_ranks(score):
    """Under ``paddle.distributed.launch``: ``(score_many, is rank 0)``, where ``score_many(codes)`` has
    each rank score every world-th arch of a generation and gives every rank all the scores (a
    sum over ranks of each rank's own, zeros elsewhere), so that all ranks continue the search
    alike; ``(None, True)`` in a single process."""
    import paddle.distributed as dist

    world = dist.get_world_size()
    if world <= 1:
        return None, True
    import numpy as np
    import paddle

    dist.init_parallel_env()
    rank = dist.get_rank()

    def score_many(codes: list) -> list:
        values = np.zeros(len(codes), dtype="float64")
        for i in range(rank, len(codes), world):
            values[i] = float(score(codes[i]))
        total = paddle.to_tensor(values)
        dist.all_reduce(total)
        return [float(v) for v in total.numpy()]

    return score_many, rank == 0


def run_export(args) -> int:
    from ..evaluator import Evaluator
    from ..export import export_arch
    from ..io.challenge_json import read_arch_file

    code = args.arch
    state, space = _checkpoint(args.checkpoint, args.set)
    if args.archs:
        listed = read_arch_file(args.archs, space)
        if code not in listed:
            raise InputError(f"{code!r} is not a key of {args.archs}", key="--arch")
        code = listed[code].arch
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise InputError("is a file; give a folder for the model", file=args.out, key="--out")
    finetune = None
    if args.finetune:
        from ..engine.config import load_config

        finetune = load_config(args.finetune)
        if finetune["space"] != space.name:
            raise InputError(f"is a {finetune['space']} recipe, the checkpoint a {space.name} supernet",
                             file=args.finetune, key="space")
    record = export_arch(Evaluator.from_checkpoint(args.checkpoint, args.set, state=state), code, args.out,
                         str(args.checkpoint), finetune=finetune, finetune_file=args.finetune or "--finetune")
    if record["finetune"]:
        print(f"[export] fine-tuned {record['finetune']['steps']} steps with {args.finetune}: validation accuracy "
              f"{record['finetune']['acc']:.4f}")
    print(f"[export] wrote {code} to {Path(args.out) / 'model'} (input {record['input_shape']}, BN recalibrated; "
          "export.json beside it)")
    return 0
