#!/usr/bin/env python3
"""The dress rehearsal of every shipped recipe of configs/cvpr21 and configs/cvpr22 (issue 27).

Each recipe (a chain, or a config that runs alone) runs in its own process on synthetic data in
the real formats (a cifar-100-python.tar.gz and a 1,000-class folder of JPEGs, generated once),
a few steps a stage, at its shipped image size, widths, teacher, losses, samplers, phases, copies,
queue sizes and schedule shape (what changes: paddle_supernet/rehearsal.py). Per recipe: the
process is killed as its second stage starts and run again (the finished stage must be reused);
every evaluated stage scores a few official archs through every evaluation backend, each
submission checked; with --parallel, one chain per track also runs under
paddle.distributed.launch on two gloo ranks and its first steps must train the same archs.
Writes ROOT/report.json and the markdown report.

    python tools/rehearse.py                       # everything: benchmarks/rehearsal.md
    python tools/rehearse.py --fast                # one chain per track (the test suite's subset)
    python tools/rehearse.py --only winner         # recipes whose path contains 'winner'
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from paddle_supernet.quiet_import import quiet_paddle_import  # noqa: E402

quiet_paddle_import()  # before anything below imports Paddle

#: configs that run alone (not a stage of any shipped chain), with the stage they start from
#: (chain file, stage name) or None; tests/test_rehearsal.py checks that every shipped config is covered
ALONE = {
    "configs/cvpr21/stage3_prl_oe_code_frozen.yaml": ("configs/cvpr21/chain_prl_oe_code.yaml", "stage2"),
    "configs/cvpr22/baseline_released.yaml": None,
    "configs/cvpr22/winner/stage2_uniform.yaml": None,
}
#: configs that are only bases of others
BASES = ("configs/cvpr21/base_cifar100.yaml", "configs/cvpr22/imagenet.yaml", "configs/cvpr22/runner_up/common.yaml")
#: the largest difference of validation loss two backends may give one arch
BACKEND_TOLERANCE = 1e-3
#: one chain per track: the test suite's subset and the data-parallel runs
FAST = ("configs/cvpr21/chain_base.yaml", "configs/cvpr22/chain_baseline.yaml")


def shipped_recipes() -> list[str]:
    """Every chain of configs/cvpr21 and configs/cvpr22 (not the fmnist twins), then the lone configs."""
    import yaml

    chains = []
    for track in ("cvpr21", "cvpr22"):
        for path in sorted((REPO / "configs" / track).rglob("*.yaml")):
            relative = path.relative_to(REPO).as_posix()
            if "fmnist" in path.parts:
                continue
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and isinstance(data.get("stages"), list):
                chains.append(relative)
    return chains + list(ALONE)


def slug(recipe: str) -> str:
    return recipe.removeprefix("configs/").removesuffix(".yaml").replace("/", "__")


def run_worker(recipe: str, root: Path, log: Path, kill_after_training: bool, env: dict,
               worker_args: list[str]) -> tuple[int, float, str]:
    """One worker process; returns (exit code, peak RSS in MB, its output). With ``kill_after_training``,
    SIGKILL as soon as a stage has trained in this process and the next stage or the evaluation starts."""
    args = [sys.executable, str(REPO / "tools" / "rehearse.py"), "worker", "--recipe", recipe, "--root", str(root),
            *worker_args]
    proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, trained, killed = [], False, False
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("[train]") and "step/s" in line:
            trained = True
        if kill_after_training and trained and line.startswith(("[chain] stage", "[eval]")):
            proc.kill()
            killed = True
            break
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    text = "".join(lines)
    with open(log, "a", encoding="utf-8") as out:
        out.write(text + ("\n[rehearse] killed here\n" if killed else ""))
    return (-9 if killed else os.waitstatus_to_exitcode(status)), usage.ru_maxrss / 1024.0, text


def rehearse_one(recipe: str, root: Path, env: dict, worker_args: list[str]) -> dict:
    """Kill once a stage has trained (as the next stage or the evaluation starts), run again to the end;
    the record the worker wrote, with status, memory and whether the trained stage was reused."""
    log = root / "logs" / f"{slug(recipe)}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("", encoding="utf-8")
    start = time.perf_counter()
    first_code, first_peak, first_text = run_worker(recipe, root, log, True, env, worker_args)
    code, peak, text = (run_worker(recipe, root, log, False, env, worker_args) if first_code == -9
                        else (first_code, first_peak, first_text))
    record_path = root / "records" / f"{slug(recipe)}.json"
    record = json.loads(record_path.read_text()) if code == 0 and record_path.exists() else {"recipe": recipe}
    trained = trained_checkpoints(first_text)
    record["killed_and_resumed"] = first_code == -9 and bool(trained) and all(
        f"{path} is already finished" in text for path in trained)
    record["status"] = "ok" if code == 0 else "FAILED: " + last_error(text)
    record["peak_mb"] = round(max(first_peak, peak))
    record["wall_seconds"] = round(time.perf_counter() - start, 1)
    return record


def trained_checkpoints(text: str) -> list[str]:
    """The checkpoints of the stages that trained in a worker's output (a progress line after a stage's
    ``[chain] stage NAME: CONFIG -> RUN_DIR`` line; a lone config's run directory from its first line)."""
    found, current = [], None
    for line in text.splitlines():
        if line.startswith("[chain] stage") and " -> " in line:
            current = line.rsplit(" -> ", 1)[1].strip()
        elif line.startswith("[rehearse] run dir "):
            current = line.removeprefix("[rehearse] run dir ").strip()
        elif line.startswith("[train]") and "step/s" in line and current and current not in found:
            found.append(current)
    return [str(Path(run_dir) / "checkpoint.pdparams") for run_dir in found]


def last_error(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error" in line or "error" in line:
            return line[:300]
    return lines[-1][:300] if lines else "no output"


def rehearse_parallel(recipe: str, root: Path, env: dict, worker_args: list[str]) -> dict:
    """The recipe on two gloo ranks; its stages' first-step digests."""
    log_dir = root / "dp_logs" / slug(recipe)
    args = [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2", "--log_dir", str(log_dir),
            str(REPO / "tools" / "rehearse.py"), "worker", "--recipe", recipe, "--root", str(root / "dp"),
            "--no-backends", *worker_args]
    proc = subprocess.run(args, cwd=REPO, env={**env, "OMP_NUM_THREADS": "1", "PADDLE_DISTRI_BACKEND": "gloo"},
                          capture_output=True, text=True)
    path = root / "dp" / "records" / f"{slug(recipe)}.json"
    if proc.returncode or not path.exists():
        logs = "".join(p.read_text() for p in log_dir.glob("*")) if log_dir.exists() else ""
        return {"status": "FAILED: " + last_error(proc.stdout + proc.stderr + logs)}
    return {"status": "ok", "digests": [s["first_step_digest"] for s in json.loads(path.read_text())["stages"]]}


def worker(args) -> int:
    """Run one recipe in this process (under launch: on every rank) and write its record (rank 0)."""
    from paddle_supernet.data.synthetic import rehearsal_data
    from paddle_supernet.rehearsal import Setting, rehearse_recipe, write_json

    root = Path(args.root)
    setting = Setting(data_roots=rehearsal_data(args.data), root=root, shared_data=args.shared_data,
                      batch=args.batch)
    init_from = None
    if ALONE.get(args.recipe):
        chain, stage = ALONE[args.recipe]
        import yaml

        name = yaml.safe_load((REPO / chain).read_text())["name"]
        init_from = str(root / "runs" / name / stage / "checkpoint.pdparams")
    record = rehearse_recipe(args.recipe, setting, init_from=init_from, backends=not args.no_backends)
    if int(os.environ.get("PADDLE_TRAINER_ID", "0")) == 0:
        write_json(root / "records" / f"{slug(args.recipe)}.json", record)
    return 0


def measure_flops(env: dict, batch: int) -> dict:
    """FLOP/s here per (space, image size), each in its own process (largest arch, training step)."""
    code = ("import json,sys; from paddle_supernet.rehearsal import cpu_flops; from paddle_supernet.engine.config "
            "import load_config; c=load_config(sys.argv[1]); "
            "print(json.dumps(cpu_flops(c['space'], c['model'], c['data']['image_size'], int(sys.argv[2]))))")
    out = {}
    for key, config in (("cvpr21_resnet20", "configs/cvpr21/stage1_base.yaml"),
                        ("cvpr22_resnet48", "configs/cvpr22/pretrain_largest.yaml")):
        proc = subprocess.run([sys.executable, "-c", code, config, str(batch)], cwd=REPO, env=env,
                              capture_output=True, text=True, check=True)
        out[key] = float(proc.stdout.strip().splitlines()[-1])
    return out


def report_rows(records: list[dict], flops: dict, parallel: dict) -> list[dict]:
    from paddle_supernet.rehearsal import backend_spread, gpu_hours

    rows = []
    for record in records:
        stages = record.get("stages", [])
        steps = sum(s["steps"] for s in stages)
        seconds = sum(s["train_seconds"] for s in stages)
        hours = [gpu_hours(s["full_scale"], s["train_seconds"] / max(s["steps"], 1), s["batch"], flops[s["space"]])
                 for s in stages]
        scores = [e["scores"] for e in record.get("evaluated", {}).values() if e.get("scores")]
        spread = max((backend_spread(s) for s in scores), default=None)
        rows.append({"recipe": record["recipe"], "status": record["status"], "stages": len(stages), "steps": steps,
                     "seconds_per_step": seconds / steps if steps else None, "peak_mb": record["peak_mb"],
                     "gpu_hours": sum(h for h in hours if h) if any(hours) else None,
                     "backend_spread": spread,
                     "evaluated": sum(e["archs"] for e in record.get("evaluated", {}).values()),
                     "resumed": record.get("killed_and_resumed"), "parallel": parallel.get(record["recipe"], "-"),
                     "wall_seconds": record["wall_seconds"]})
    return rows


def markdown(rows: list[dict], flops: dict, args, total: float) -> str:
    fmt = lambda v, f: "-" if v is None else format(v, f)  # noqa: E731
    lines = ["# Dress rehearsal of every shipped recipe", "",
             f"`python tools/rehearse.py{' --fast' if args.fast else ''}`, {time.strftime('%Y-%m-%d %H:%M')}, "
             f"{total / 60:.1f} min wall on 2 cores. Each recipe on synthetic data in the real formats (a "
             "CIFAR-100 tarball, a 1,000-class JPEG folder), one step an epoch, each phase one epoch, other stages "
             f"at most 2 epochs, batch {args.batch} (8 where MoCo splits its batch in 8), every stage at its "
             "shipped image size, widths, teacher, losses, sampler, phases, copies and queue sizes "
             "(`paddle_supernet/rehearsal.py` lists what changes). Each recipe's process is killed as soon as "
             "a stage has trained (when the next stage or the evaluation starts) and run again: *resumed* says "
             "every stage trained before the kill was reused, not retrained. Evaluated stages score "
             f"2 official archs through the {', '.join(('dygraph', 'inference', 'shared_inference'))} "
             "backends, by validation loss (the largest difference between two backends on one arch is given), "
             "each submission checked against the official list.",
             "",
             "**GPU-hours are an estimate**, not a measurement: the full-scale images of every stage (its shipped "
             "epochs x the dataset, 50,000 or 1,281,167) x the seconds an image took here, scaled by the FLOP rate "
             "this CPU sustained on a training step of the largest arch "
             + ", ".join(f"{k}: {v / 1e9:.1f} GFLOP/s" for k, v in flops.items())
             + " over an assumed 7 TFLOP/s FP32 sustained on a V100-class GPU (45% of its peak). The small steps "
             "here weigh fixed costs more than a GPU batch does, so read them as an order of magnitude.", "",
             "| recipe | status | stages | steps | s/step here | peak MB | GPU-hours (estimate) | backends' largest loss difference | "
             "archs scored | resumed | 2 ranks |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| `{r['recipe']}` | {r['status']} | {r['stages']} | {r['steps']} | "
                     f"{fmt(r['seconds_per_step'], '.1f')} | {r['peak_mb']} | {fmt(r['gpu_hours'], ',.0f')} | "
                     f"{fmt(r['backend_spread'], '.1e')} | {r['evaluated']} | {'yes' if r['resumed'] else 'no'} | {r['parallel']} |")
    lines += ["", "*stages*, *steps* and GPU-hours are the whole chain's, its pretraining included; a stage another "
              "chain already trained here (the shared pretraining, a team's common prefix) was reused, not trained "
              "again, so its seconds are those of its first run.", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    w = sub.add_parser("worker", help="run one recipe in this process (used by the rehearsal)")
    w.add_argument("--recipe", required=True)
    w.add_argument("--root", required=True)
    w.add_argument("--no-backends", action="store_true")
    w.add_argument("--data", required=True, help="the synthetic data folder (written once)")
    w.add_argument("--batch", type=int, required=True)
    w.add_argument("--shared-data", default=os.environ.get("PADDLE_SUPERNET_SHARED_DATA",
                                                           str(REPO.parent / "shared" / "data")))
    parser.add_argument("--root", default="runs/rehearsal", help="working folder (data, runs, records, logs)")
    parser.add_argument("--report", default="benchmarks/rehearsal.md", help="markdown report to write")
    parser.add_argument("--fast", action="store_true", help="one chain per track only")
    parser.add_argument("--only", nargs="+", help="recipes whose path contains one of these")
    parser.add_argument("--parallel", action="store_true", help="also run the fast chains on two gloo ranks")
    parser.add_argument("--batch", type=int, default=2)
    args = parser.parse_args()
    if args.command == "worker":
        return worker(args)
    root = Path(args.root).resolve()
    for folder in ("runs", "records", "logs", "dp", "dp_logs"):  # a rehearsal starts afresh (the data is kept)
        shutil.rmtree(root / folder, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    worker_args = ["--data", str(root / "data"), "--batch", str(args.batch)]  # one data folder for every run
    recipes = list(FAST) if args.fast else shipped_recipes()
    if args.only:
        recipes = [r for r in recipes if any(part in r for part in args.only)]
    start = time.perf_counter()
    records = []
    for number, recipe in enumerate(recipes, 1):
        record = rehearse_one(recipe, root, env, worker_args)
        records.append(record)
        done = time.perf_counter() - start
        print(f"[rehearse] {number}/{len(recipes)} {recipe}: {record['status']} ({record['wall_seconds']:.0f} s; "
              f"ETA {done / number * (len(recipes) - number) / 60:.1f} min)", flush=True)
    parallel = {}
    if args.parallel:
        for recipe in [r for r in FAST if r in recipes]:
            single = next(r for r in records if r["recipe"] == recipe)
            result = rehearse_parallel(recipe, root, env, worker_args)
            if result["status"] != "ok":
                parallel[recipe] = result["status"]
            else:
                same = result["digests"] == [s["first_step_digest"] for s in single.get("stages", [])]
                parallel[recipe] = "same first steps" if same else "DIFFERENT first steps"
            print(f"[rehearse] 2 ranks {recipe}: {parallel[recipe]}", flush=True)
    flops = measure_flops(env, args.batch)
    rows = report_rows(records, flops, parallel)
    total = time.perf_counter() - start
    from paddle_supernet.io.atomic import atomic_write_text

    atomic_write_text(root / "report.json", json.dumps({"rows": rows, "flops": flops}, indent=1) + "\n")
    atomic_write_text(Path(args.report), markdown(rows, flops, args, total))
    print(f"[rehearse] {args.report}: {sum(r['status'] == 'ok' for r in rows)}/{len(rows)} ok, "
          f"{total / 60:.1f} min", flush=True)
    healthy = [r["status"] == "ok" and (r["backend_spread"] or 0.0) <= BACKEND_TOLERANCE for r in rows]
    return 0 if all(healthy) and all(v == "same first steps" for v in parallel.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
