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


def finetune_network(net, recipe: dict, data, recipe_file: str = "--finetune") -> dict:
    """Train ``net`` (an arch exported from a supernet, its inherited weights and recalibrated BN) with
    the stand-alone ``recipe`` (a resolved config: data, optimizer, schedule), starting from those
    weights instead of from scratch; returns its accuracy and loss on ``data``'s validation images.

    Example:
        >>> finetune_network(evaluator.model.export(code), load_config("benchmarks/fmnist-r20/recipe.yaml"),
        ...                  (train, val))                                                     # doctest: +SKIP
        {'acc': 0.87, 'loss': 0.36, 'steps': 468}
    """
    from .engine.trainer import Trainer
    from .evaluator import accuracy_and_loss
    from .strategies.single import PlainStep

    for key in ("model.pretrained", "checkpoint.init_from"):
        section, name = key.split(".")
        if recipe[section].get(name):
            raise InputError("must be null in a fine-tuning recipe: the network starts from the supernet's weights",
                             file=recipe_file, key=key)
    trainer = Trainer(recipe, None, data=data, model=net, strategy=PlainStep(), quiet=True)
    trainer.fit()
    net.eval()
    acc, loss = accuracy_and_loss(net, data[1].eval_batches(recipe["eval"]["batch_size"]))
    return {"acc": acc, "loss": loss, "steps": trainer.step}


def export_arch(evaluator, code: str, out_dir: str | Path, checkpoint: str | None = None,
                finetune: dict | None = None, finetune_data=None, finetune_file: str = "--finetune") -> dict:
    """Write ``code`` of ``evaluator``'s supernet to ``out_dir`` (see the module docstring); returns the record.
    ``finetune``: a stand-alone recipe (resolved config) to train the exported network with first
    (:func:`finetune_network`), on ``finetune_data`` (default: the recipe's own data)."""
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
    finetuned = None
    if finetune is not None:
        from .data import load_dataset

        data = finetune_data if finetune_data is not None else load_dataset(finetune["data"])
        net.eval()
        with paddle.no_grad():
            classes = int(net(next(iter(evaluator.val_batches))[0][:1]).shape[-1])
        if data[0].num_classes != classes:
            raise InputError(f"its data has {data[0].num_classes} classes, the supernet's {classes}",
                             file=finetune_file, key="data")
        finetuned = finetune_network(net, finetune, data, finetune_file)
    net.eval()
    first = next(iter(evaluator.val_batches))[0]
    shape = [None, *[int(v) for v in first.shape[1:]]]
    out.mkdir(parents=True, exist_ok=True)
    save_inference_model(net, [InputSpec(list(shape), "float32", "images")], str(out / "model"))
    record = {"arch": code, "space": evaluator.space.name, "input_shape": shape, "checkpoint": checkpoint,
              "checkpoint_weights": evaluator.producer.get("checkpoint_weights"),
              "data": evaluator.producer.get("data"), "calibration": evaluator.producer.get("eval"),
              "paddle": paddle.__version__,
              "finetune": None if finetune is None else {"config": finetune_file, **finetuned}}
    atomic_write_text(out / "export.json", json.dumps(record, indent=2) + "\n")
    return record
