#!/usr/bin/env python3
"""Evaluation throughput for both spaces: the naive loop, the dygraph path, the fast path, and the floor.

- naive: what the abandoned team scripts did per arch: reload the checkpoint, re-read and
  re-prepare the data, then activate, calibrate and score (dygraph);
- dygraph: ``Evaluator`` with data and model prepared once (``eval.backend: dygraph``);
- fast: the same with ``eval.backend: inference`` (calibration in dygraph, then the exported
  subnet traced, saved and run by a Paddle Inference predictor); fast+cal: the calibration
  through a predictor too (``eval.calib_backend: inference``); shared: ``eval.backend:
  shared_inference`` (one predictor per network structure, weights fed, BN folded, the biases on a
  constant channel), shared+add the same with the biases added by separate operations (list order
  only), shared+cal with its calibration through shared predictors too;
- floor: the pure forward of the same calibration + validation images through an already
  created predictor (no calibration, export or setup).
Each space at its benchmark's scale on the embedded Fashion-MNIST (fmnist-r20: ResNet20 at
32x32; fmnist-r48: the small-image ResNet48 at width 1/8, 16x16), untrained weights, for two
sets of archs: drawn from the space (in 2022 every one a structure of its own), and
consecutive archs of the official list sorted by code (as the shared backend meets them).
Prints archs/hour and each path's speed-up over naive (goal >= 5) and ratio to the floor
(goal <= 1.5).

    OMP_NUM_THREADS=1 python bench/eval_throughput.py --archs 6
    OMP_NUM_THREADS=1 python bench/eval_throughput.py --archs 2 --official   # the full-size 2022 network
    # the fmnist32-r48 tables' scoring (32x32, 100 archs each its own structure):
    OMP_NUM_THREADS=1 python bench/eval_throughput.py --space cvpr22_resnet48 --no-list --archs 4 \
        --set data.image_size=32
"""
import argparse
import random
import tempfile
import time
from pathlib import Path

from paddle_supernet.data import load_dataset
from paddle_supernet.engine.checkpoint import save_checkpoint
from paddle_supernet.engine.config import load_config
from paddle_supernet.evaluator import Evaluator
from paddle_supernet.inference_path import InferenceRunner
from paddle_supernet.io.challenge_json import read_arch_file
from paddle_supernet.models import build_supernet
from paddle_supernet.shared_predictor import SharedPredictors, structure_signature
from paddle_supernet.spaces import get_space

SCALES = {"cvpr21_resnet20": "configs/quickstart_fmnist_r20.yaml", "cvpr22_resnet48": "configs/cvpr22/fmnist/scale.yaml"}
#: the official lists, read in place (the shared_inference backend's speed depends on how many
#: archs in a row share a structure: all of them in 2021, about 100 in a row in 2022)
LISTS = {"cvpr21_resnet20": "../shared/data/cvpr21/Track1_final_archs.json",
         "cvpr22_resnet48": "../shared/data/cvpr22/CVPR_2022_NAS_Track1_test.json"}
#: --official: the 2022 network as the challenge ran it (full widths, 224x224, 7x7 stem), on Fashion-MNIST
#: upscaled to 224 (a stand-in for ImageNet's cost per image; few images, so it runs in minutes)
OFFICIAL = ["model.small_input=false", "model.width_scale=1.0", "data.image_size=224", "data.train_subset=1000",
            "eval.val_subset=500", "eval.calib_images=128", "eval.calib_batch_size=64", "eval.batch_size=100"]


def per_hour(seconds: float, n: int) -> str:
    return f"{seconds / n:6.2f} s/arch = {3600 * n / seconds:7.0f} archs/hour"


def list_order_codes(space, path: str, n: int, seed: int) -> list[str]:
    """``n`` consecutive archs of the official list sorted by code, from a seeded position: the
    order in which the shared_inference backend meets them."""
    codes = sorted(entry.arch for entry in read_arch_file(path, space).values())
    start = random.Random(seed).randrange(len(codes) - n)
    return codes[start:start + n]


def timed(score, code: str, seconds: list) -> float:
    """``score(code)``, its duration appended to ``seconds``."""
    t = time.perf_counter()
    value = score(code)
    seconds.append(time.perf_counter() - t)
    return value


def time_backends(ckpt: Path, codes: list[str], threads: int, names: list[str]) -> tuple[dict, dict, list]:
    """Seconds per arch (in order) and scores of each path in ``names`` (the paths other than naive
    load model and data once, before the clock starts: a list of thousands pays that once), and the
    floor's seconds per arch: calibration + validation images through a ready predictor."""
    fast = [f"eval.threads={threads}"]
    overrides = {"dygraph": [], "fast": fast + ["eval.backend=inference"],
                 "fast+cal": fast + ["eval.backend=inference", "eval.calib_backend=inference"],
                 "shared": fast + ["eval.backend=shared_inference"],
                 "shared+add": fast + ["eval.backend=shared_inference"],
                 "shared+cal": fast + ["eval.backend=shared_inference", "eval.calib_backend=inference"]}
    timings, scores = {}, {}
    for name in names:
        timings[name] = []
        if name == "naive":  # everything again for every arch
            load = lambda code: Evaluator.from_checkpoint(ckpt, ["eval.score=neg_loss"]).score(code)  # noqa: E731
            scores[name] = [timed(load, code, timings[name]) for code in codes]
        else:
            evaluator = Evaluator.from_checkpoint(ckpt, overrides[name] + ["eval.score=neg_loss"])
            if name == "shared+add":
                evaluator._runner = SharedPredictors(threads, bias_channel=False)
            scores[name] = [timed(evaluator.score, code, timings[name]) for code in codes]
    evaluator = Evaluator.from_checkpoint(ckpt)
    images = [b.numpy() for b in evaluator.calib_batches] + [x.numpy() for x, _ in evaluator.val_batches]
    runner, floor = InferenceRunner(threads), []
    with tempfile.TemporaryDirectory() as folder:
        for code in codes:
            evaluator.model.set_active(code)
            evaluator.model.eval()
            predictor = runner.predictor(evaluator.model.export(code), tuple(images[0].shape[1:]), folder)
            source = predictor.get_input_handle(predictor.get_input_names()[0])
            t = time.perf_counter()
            for batch in images:
                source.reshape(list(batch.shape))
                source.copy_from_cpu(batch)
                predictor.run()
            floor.append(time.perf_counter() - t)
    return timings, scores, floor


def whole_list(seconds: list, per_structure: float) -> float:
    """Seconds per arch over a sorted list whose structures last ``per_structure`` archs: the first two
    archs of the run (a structure's own predictor, then the shared program's set-up) once, the
    steady cost (the mean over the rest) for the others."""
    rest = seconds[2:] or seconds  # fewer than three archs: no steady part measured, the mean stands for it
    steady = sum(rest) / len(rest)
    return (seconds[0] + seconds[1] + steady * (per_structure - 2)) / per_structure


def archs_per_structure(model, codes: list[str]) -> float:
    """How many archs in a row share a network structure in the sorted ``codes`` (counted, not assumed)."""
    signatures = [structure_signature(model.export(code)) for code in codes]
    runs = 1 + sum(a != b for a, b in zip(signatures, signatures[1:]))
    return len(codes) / runs


def report(title: str, codes: list[str], timings: dict, scores: dict, floor: list,
           per_structure: float | None = None) -> None:
    """Mean seconds per arch over ``codes``; with ``per_structure``, also the estimate for a whole sorted list."""
    print(f"-- {title}: {len(codes)} archs")
    means = {name: sum(seconds) / len(seconds) for name, seconds in timings.items()}
    floor_mean = sum(floor) / len(floor)
    for name, seconds in timings.items():
        line = f"{name:10s}: {per_hour(sum(seconds), len(seconds))}"
        if per_structure:
            rest = seconds[2:] or seconds
            line += f"; steady {sum(rest) / len(rest):.2f} s; whole list {whole_list(seconds, per_structure):.2f} s"
        print(line)
    print(f"floor     : {per_hour(sum(floor), len(floor))}")
    estimate = {name: whole_list(seconds, per_structure) for name, seconds in timings.items()} if per_structure else means
    if per_structure:
        print(f"whole-list estimates ({per_structure:.0f} archs per structure in the sorted list):")
    for name in ("fast", "fast+cal", "shared", "shared+add", "shared+cal"):
        if name in estimate and "naive" in estimate:
            print(f"{name}: / naive speed-up = {estimate['naive'] / estimate[name]:.2f}x (goal >= 5); "
                  f"/ floor = {estimate[name] / floor_mean:.2f}x (goal <= 1.5)")
    worst = max(abs(a - b) for name in scores if name != "dygraph" for a, b in zip(scores[name], scores["dygraph"]))
    print(f"largest |loss difference| from dygraph {worst:.1e}")


def bench_space(space_name: str, config: str, n_archs: int, threads: int, overrides: list | None = None,
                arch_list: str | None = None, run_length_sample: int = 1000, drawn_set: bool = True) -> None:
    cfg = load_config(config, overrides)
    ev = cfg["eval"]
    print(f"\n== {space_name} ({config} {' '.join(overrides or [])}): image {cfg['data']['image_size']}, calibration {ev['calib_images']}, "
          f"validation {ev['val_subset'] or 'all'} images")
    space = get_space(cfg["space"])
    drawn = space.sample_unique(n_archs, 123, cfg["model"].get("distribution"))
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = Path(tmp) / "checkpoint.pdparams"
        data = load_dataset(cfg["data"])
        model = build_supernet(cfg, data[0].num_classes)
        save_checkpoint(ckpt, model, None, {"config": cfg, "space": cfg["space"], "num_classes": data[0].num_classes,
                                            "fingerprint": "", "step": 0, "total_steps": 0, "finished": True})
        names = ["naive", "dygraph", "fast", "fast+cal", "shared", "shared+cal"]
        if drawn_set:
            report("drawn archs (every one its own structure in the 2022 space)", drawn,
                   *time_backends(ckpt, drawn, threads, names))
        if arch_list:
            listed = list_order_codes(space, arch_list, max(n_archs, run_length_sample), 123)
            per_structure = archs_per_structure(model, listed)
            report(f"consecutive archs of {arch_list} sorted by code (in {len(listed)} such archs, "
                   f"{per_structure:.0f} in a row share a structure)", listed[:n_archs],
                   *time_backends(ckpt, listed[:n_archs], threads,
                                  ["naive", "dygraph", "fast", "shared", "shared+add", "shared+cal"]),
                   per_structure=per_structure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--archs", type=int, default=6)
    parser.add_argument("--space", choices=["both", *SCALES], default="both")
    parser.add_argument("--threads", type=int, default=1, help="predictor CPU threads")
    parser.add_argument("--official", action="store_true", help="the official 2022 network at 224x224 instead")
    parser.add_argument("--no-list", action="store_true", help="drawn archs only (no official list in list order)")
    parser.add_argument("--no-drawn", action="store_true", help="archs in list order only")
    parser.add_argument("--structure-sample", type=int, default=1000,
                        help="consecutive sorted archs in which to count how many in a row share a structure")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a config value for the scale measured (repeat), e.g. data.image_size=32")
    args = parser.parse_args()
    if args.official:
        bench_space("cvpr22_resnet48 (official, 224x224)", SCALES["cvpr22_resnet48"], args.archs, args.threads,
                    OFFICIAL + args.set,
                    arch_list=None if args.no_list else LISTS["cvpr22_resnet48"],
                    run_length_sample=args.structure_sample, drawn_set=not args.no_drawn)
        return
    for space_name, config in SCALES.items():
        if args.space in ("both", space_name):
            bench_space(space_name, config, args.archs, args.threads, args.set,
                        arch_list=None if args.no_list else LISTS[space_name],
                        run_length_sample=args.structure_sample, drawn_set=not args.no_drawn)


if __name__ == "__main__":
    main()
