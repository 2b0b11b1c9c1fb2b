"""One arch of a trained supernet as a deployable Paddle Inference model.

The arch is activated, its BN statistics recalibrated exactly as the evaluator does before
scoring (same calibration set and rule), exported as a plain network with the inherited
weights and saved with ``paddle.jit.save`` (``model.json`` on Paddle 3, ``model.pdmodel`` on
2.6, and ``model.pdiparams``), with ``export.json`` beside it saying what it is.

Example:
    >>> ev = Evaluator.from_checkpoint("runs/X/checkpoint.pdparams")     # doctest: +SKIP
    >>> export_arch(ev, code, "runs/X/deploy")                           # doctest: +SKIP
"""
from __future__ import annotations

import json
from pathlib import Path

from .errors import InputError
from .io.atomic import atomic_write_text
from .io.challenge_json import ArchEntry


def export_arch(evaluator, code: str, out_dir: str | Path, checkpoint: str | None = None) -> dict:
    """Write ``code`` of ``evaluator``'s supernet to ``out_dir`` (see the module docstring); returns the record."""
    import paddle
    from paddle.static import InputSpec

    from .inference_path import save_inference_model

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError("is a file; give a folder for the model", file=str(out), key="--out")
    evaluator.check_archs({"--arch": ArchEntry(code, 0.0)})
    evaluator.model.set_active(code)
    evaluator._calibrate()
    net = evaluator.model.export(code)
    net.eval()
    first = next(iter(evaluator.val_batches))[0]
    shape = [None, *[int(v) for v in first.shape[1:]]]
    out.mkdir(parents=True, exist_ok=True)
    save_inference_model(net, [InputSpec(list(shape), "float32", "images")], str(out / "model"))
    record = {"arch": code, "space": evaluator.space.name, "input_shape": shape, "checkpoint": checkpoint,
              "checkpoint_weights": evaluator.producer.get("checkpoint_weights"),
              "data": evaluator.producer.get("data"), "calibration": evaluator.producer.get("eval"),
              "paddle": paddle.__version__}
    atomic_write_text(out / "export.json", json.dumps(record, indent=2) + "\n")
    return record
