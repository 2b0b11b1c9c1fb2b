"""Score archs with inherited weights: activate, calibrate BN, score, write the submission.

Calibration and validation tensors are prepared once per run. Results are
appended to a part file (one JSON line per arch, flushed) as they come, so a
killed evaluation resumes where it stopped, and the final submission (written
atomically) is identical to an uninterrupted run's.

Example:
    >>> ev = Evaluator.from_checkpoint("runs/quickstart/checkpoint.pdparams")        # doctest: +SKIP
    >>> ev.evaluate(read_arch_file("archs.json", ev.space), "submission.json")       # doctest: +SKIP
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Mapping

import numpy as np
import paddle
import paddle.nn.functional as F

from .data import load_dataset
from .data.arrays import seeded_subset
from .data.batches import calibration_subset, fixed_batches
from .engine.checkpoint import load_checkpoint, restore_model
from .engine.config import merge_config
from .engine.progress import Progress
from .errors import InputError
from .io.challenge_json import ArchEntry, ArchList, with_scores, write_arch_file
from .models import build_supernet
from .nn.batchnorm import calibrate_bn
from .spaces import get_space

SCORES = ("accuracy", "neg_loss")


class Evaluator:
    """Scores archs of ``model`` (a supernet with ``set_active``) on fixed data."""

    def __init__(self, model, space, calib_batches: list, val_batches: list, score: str = "accuracy"):
        if score not in SCORES:
            raise InputError(f"unknown score {score!r}; choose one of {', '.join(SCORES)}", key="eval.score")
        self.model, self.space, self.score_name = model, space, score
        self.calib_batches, self.val_batches = calib_batches, val_batches

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, overrides: list[str] | None = None, data=None,
                        state: dict | None = None) -> "Evaluator":
        """Build model and data from a checkpoint's own config (``overrides`` may change ``eval.*`` / ``data.root``).

        ``state``: the already loaded checkpoint, to avoid reading it twice.
        """
        state = state if state is not None else load_checkpoint(path)
        meta = state["meta"]
        cfg = merge_config(meta["config"], overrides, file=str(path))
        train, val = data if data is not None else load_dataset(cfg["data"])
        if train.num_classes != meta["num_classes"]:
            raise InputError(f"data has {train.num_classes} classes, the checkpoint {meta['num_classes']}", file=str(path))
        model = build_supernet(cfg, meta["num_classes"])
        restore_model(model, state, str(path))
        ev = cfg["eval"]
        val = val.subset(seeded_subset(len(val), ev["val_subset"], cfg["data"]["subset_seed"] + 2))
        calib = calibration_subset(train, ev["calib_images"], cfg["seed"])
        return cls(model, get_space(cfg["space"]), fixed_batches(calib, ev["calib_batch_size"], with_labels=False),
                   fixed_batches(val, ev["batch_size"]), ev["score"])

    def score(self, code: str) -> float:
        """Calibrated score of one arch: accuracy, or minus the mean cross-entropy."""
        self.model.set_active(code)
        calibrate_bn(self.model, self.calib_batches)
        self.model.eval()
        correct, loss_sum, count = 0, 0.0, 0
        with paddle.no_grad():
            for images, labels in self.val_batches:
                logits = self.model(images)
                correct += int((logits.argmax(axis=1) == labels).astype("int64").sum())
                loss_sum += float(F.cross_entropy(logits, labels, reduction="sum"))
                count += int(labels.shape[0])
        return correct / count if self.score_name == "accuracy" else -loss_sum / count

    def evaluate(self, arch_list: Mapping[str, ArchEntry], out_path: str | os.PathLike,
                 part_path: str | os.PathLike | None = None, every_seconds: float = 10.0) -> ArchList:
        """Score every arch of ``arch_list`` and write the submission to ``out_path``."""
        out_path = Path(out_path)
        part_path = Path(part_path) if part_path else out_path.with_name(out_path.name + ".part")
        scores = read_part_file(part_path, arch_list)
        todo = [key for key in arch_list if key not in scores]
        progress = Progress("eval", len(arch_list), start=len(scores), every_seconds=every_seconds, unit="arch")
        if scores:
            print(f"[eval] resuming: {len(scores)} of {len(arch_list)} archs already in {part_path}", flush=True)
        part_path.parent.mkdir(parents=True, exist_ok=True)
        with open(part_path, "a", encoding="utf-8") as part:
            for key in todo:
                value = self.score(arch_list[key].arch)
                part.write(json.dumps({"key": key, "arch": arch_list[key].arch, "acc": value}) + "\n")
                part.flush()
                os.fsync(part.fileno())
                scores[key] = value
                progress.update(len(scores), last=value)
        submission = with_scores(arch_list, scores)
        write_arch_file(out_path, submission)
        part_path.unlink()
        return submission


def read_part_file(path: Path, arch_list: Mapping[str, ArchEntry]) -> dict:
    """Scores already in a part file; a torn last line (killed mid-write) is dropped."""
    if not path.exists():
        return {}
    scores: dict = {}
    lines = path.read_text(encoding="utf-8").split("\n")
    good_bytes = 0
    for number, line in enumerate(lines, start=1):
        if not line:
            continue
        try:
            row = json.loads(line)
            key, code, value = row["key"], row["arch"], float(row["acc"])
        except (ValueError, KeyError, TypeError):
            if number == len(lines):  # the unterminated last line of a killed writer
                break
            raise InputError(f"line {number} is not a result row", file=str(path)) from None
        if key not in arch_list or arch_list[key].arch != code or not np.isfinite(value):
            raise InputError(f"line {number}: {key} does not belong to this arch list (or its score is not finite); "
                             "delete the part file to start over", file=str(path))
        scores[key] = value
        good_bytes += len(line.encode("utf-8")) + 1
    with open(path, "r+b") as handle:  # drop a torn tail so appends start on a fresh line
        handle.truncate(good_bytes)
    return scores
