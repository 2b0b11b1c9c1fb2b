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

import hashlib
import json
import os
from pathlib import Path
from typing import Mapping

import paddle
import numpy as np

from .data import load_dataset
from .data.arrays import seeded_subset
from .engine.checkpoint import load_checkpoint, restore_model
from .engine.config import merge_config, without_added_later
from .engine.progress import Progress
from .errors import InputError
from .io.challenge_json import ArchEntry, ArchList, arch_list_digest, with_scores, write_arch_file
from .io.result_log import ResultLog
from .io.shards import part_scores, shard_header, shard_keys, shard_part_path
from .io.submission_record import finished_submission, write_record
from .models import build_supernet
from .nn.batchnorm import bn_statistics, calibrate_bn, momentum_calibrate_bn
from .spaces import get_space

SCORES = ("accuracy", "neg_loss")
#: how the validation forward runs: dygraph; the exported subnet through Paddle Inference, one
#: predictor per arch (inference) or one per network structure, weights fed (shared_inference)
BACKENDS = ("dygraph", "inference", "shared_inference")
#: how BN statistics are recalibrated per arch: exact average (default), or momentum updates (2022 runner-up)
CALIBRATIONS = ("exact", "momentum")


class Evaluator:
    """Scores archs of ``model`` (a supernet with ``set_active``) on fixed data."""

    def __init__(self, model, space, calib_batches: list, val_batches: list, score: str = "accuracy",
                 producer: dict | None = None, backend: str = "dygraph", threads: int = 0,
                 calib_backend: str = "dygraph", calibration: str = "exact"):
        """``producer``: what makes these scores (checkpoint, eval and data settings); recorded in
        the part file so that a resume with anything else is refused."""
        if score not in SCORES:
            raise InputError(f"unknown score {score!r}; choose one of {', '.join(SCORES)}", key="eval.score")
        self.model, self.space, self.score_name = model, space, score
        if backend not in BACKENDS:
            raise InputError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}", key="eval.backend")
        self.calib_batches, self.val_batches = calib_batches, val_batches
        self.producer = {"score": score, **(producer or {})}
        self.backend, self._runner, self._val_numpy = backend, None, None
        self.calib_backend = calib_backend
        if calibration not in CALIBRATIONS:
            raise InputError(f"unknown calibration {calibration!r}; choose one of {', '.join(CALIBRATIONS)}",
                             key="eval.calibration")
        # momentum: every arch starts from the trained statistics (see momentum_calibrate_bn)
        self._momentum_start = bn_statistics(model) if calibration == "momentum" else None
        if backend == "inference":
            from .inference_path import InferenceRunner

            self._runner = InferenceRunner(threads)
        elif backend == "shared_inference":
            from .shared_predictor import SharedPredictors

            self._runner = SharedPredictors(threads)

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
        calib = train.calibration_batches(ev["calib_images"], ev["calib_batch_size"], cfg["seed"],
                                          cfg["data"]["augment"] if ev["calib_augment"] else None)
        # identified by content: the weights scored and the images scored and calibrated on
        producer = {"checkpoint_weights": weights_digest(state["model"]),
                    "data_content": {"train": train.content_digest(), "val": val.content_digest(),
                                     "calibration_seed": cfg["seed"],
                                     "calibration_augment": cfg["data"]["augment"] if ev["calib_augment"] else None},
                    "eval": without_added_later({"eval": {k: v for k, v in ev.items() if k not in (
                        "archs", "archs_subset", "if_archs_missing", "sample", "sample_seed")}})["eval"],
                    "data": {k: cfg["data"].get(k) for k in ("name", "image_size", "train_subset", "val_subset",
                                                             "subset_seed", "mean", "std", "resize")}}
        return cls(model, get_space(cfg["space"]), calib, val.eval_batches(ev["batch_size"]), ev["score"], producer,
                   ev["backend"], ev["threads"], ev["calib_backend"], ev["calibration"])

    def score(self, code: str) -> float:
        """Calibrated score of one arch: accuracy, or minus the mean cross-entropy."""
        self.model.set_active(code)
        if self._runner is None:
            self._calibrate()
            accuracy, loss = accuracy_and_loss(self.model, self.val_batches)
        else:  # the subnet exported, calibrated and scored through Paddle Inference
            from .inference_path import accuracy_and_loss_from_logits, calibrate_with_predictor

            if self._val_numpy is None:  # converted once per run
                self._val_numpy = [(x.numpy(), y.numpy()) for x, y in self.val_batches]
                self._calib_numpy = [x.numpy() for x in self.calib_batches]
            self.model.eval()
            if self.calib_backend == "inference" and not self._frozen_bn() and self._momentum_start is None:
                net = calibrate_with_predictor(self._runner, lambda: self.model.export(code), self._calib_numpy)
            else:
                self._calibrate()
                net = self.model.export(code)
            logits = self._runner.logits(net, [x for x, _ in self._val_numpy])
            accuracy, loss = accuracy_and_loss_from_logits(logits, [y for _, y in self._val_numpy])
        return accuracy if self.score_name == "accuracy" else -loss

    def check_archs(self, arch_list: Mapping[str, ArchEntry]) -> None:
        """:class:`InputError` naming the first arch this supernet cannot activate (outside its space or its
        distribution, e.g. untied 2022 stage outputs)."""
        for key, entry in arch_list.items():
            try:
                self.model.set_active(entry.arch)
            except InputError as err:
                raise err.located(key=key) from None

    def _calibrate(self) -> None:
        if self._momentum_start is not None:
            momentum_calibrate_bn(self.model, self.calib_batches, self._momentum_start)
        else:
            calibrate_bn(self.model, self.calib_batches)
        self.model.eval()

    def _frozen_bn(self) -> bool:
        """True when BN statistics are frozen (the released 2022 regime): nothing to calibrate."""
        return getattr(self.model, "bn_stats", "batch") == "frozen"

    def evaluate(self, arch_list: Mapping[str, ArchEntry], out_path: str | os.PathLike,
                 part_path: str | os.PathLike | None = None, every_seconds: float = 10.0,
                 shard: tuple[int, int] = (0, 1)) -> ArchList | None:
        """Score every arch of ``arch_list`` and write the submission to ``out_path``.

        ``shard=(i, n)`` with n > 1 scores shard i only (every n-th arch, its own part file; see
        :mod:`paddle_supernet.io.shards`) and returns None: the submission is written by
        :func:`~paddle_supernet.io.shards.merge_shards` once every shard is complete.
        """
        out_path = Path(out_path)
        index, count = shard
        self.check_archs(arch_list)  # every code this supernet cannot run, before anything is written
        producer = {**self.producer, "arch_list": arch_list_digest(arch_list)}
        if count > 1:
            log = ResultLog(shard_part_path(out_path, index, count))
            header = shard_header(producer, index, count)
            keys = shard_keys(arch_list, index, count)
        else:
            header, keys = {"produced_by": producer}, list(arch_list)
            finished = finished_submission(out_path, header)
            if finished is not None:
                print(f"[eval] {out_path} is up to date (same checkpoint, arch list and eval settings); not rescored",
                      flush=True)
                return finished
            log = ResultLog(part_path or out_path.with_name(out_path.name + ".part"))
        rows = log.rows()
        if not rows:
            log.append(header)
        elif rows[0] != json.loads(json.dumps(header)):
            raise InputError("was written by another checkpoint, arch list, eval settings or shard than this run's; "
                             "delete it to start over, or resume with what produced it", file=str(log.path))
        name = "eval" if count == 1 else f"eval {index}/{count}"
        scores = part_scores(rows[1:], arch_list, keys, name, log.path)
        progress = Progress(name, len(keys), start=len(scores), every_seconds=every_seconds, unit="arch", per="h")
        if scores:
            print(f"[{name}] resuming: {len(scores)} of {len(keys)} archs already in {log.path}", flush=True)
        todo = [key for key in keys if key not in scores]
        if self.backend == "shared_inference":  # archs of one structure in a row share a predictor
            todo.sort(key=lambda key: arch_list[key].arch)
        for key in todo:
            scores[key] = self.score(arch_list[key].arch)
            log.append({"key": key, "arch": arch_list[key].arch, "acc": scores[key]})
            progress.update(len(scores), last=scores[key])
        if count > 1:
            return None
        submission = with_scores(arch_list, scores)
        write_arch_file(out_path, submission)
        write_record(out_path, header)
        log.remove()
        return submission


def weights_digest(model_state: Mapping) -> str:
    """A short SHA-256 of a model state dict's names, shapes and values.

    >>> import numpy as np
    >>> weights_digest({"w": np.zeros(2, "float32")}) == weights_digest({"w": np.ones(2, "float32")})
    False
    """
    import numpy as np

    h = hashlib.sha256()
    for name in sorted(model_state):
        value = model_state[name]
        array = np.ascontiguousarray(value.numpy() if hasattr(value, "numpy") else np.asarray(value))
        h.update(f"{name}\0{array.dtype}\0{array.shape}\0".encode())
        h.update(array.tobytes())
    return h.hexdigest()[:16]


def accuracy_and_loss(model, batches) -> tuple[float, float]:
    """Top-1 accuracy and mean cross-entropy of ``model`` in eval mode over ``(images, labels)`` batches.

    The cross-entropy is a float64 log-softmax of the logits, as the inference backends compute it:
    Paddle's ``F.cross_entropy`` caps a sample's loss at 64, so the backends' ``neg_loss`` scores
    disagreed on badly wrong archs (found by the rehearsal)."""
    from .inference_path import accuracy_and_loss_from_logits

    model.eval()
    logits, labels = [], []
    with paddle.no_grad():
        for images, batch_labels in batches:
            logits.append(model(images).numpy())
            labels.append(np.asarray(batch_labels.numpy()).reshape(-1))
    return accuracy_and_loss_from_logits(logits, labels)
