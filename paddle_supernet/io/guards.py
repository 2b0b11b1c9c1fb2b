"""No output is ever written over an input: one check every command runs before any work.

Example:
    >>> refuse_output_over_inputs({"--out": "gt.json"}, {"--archs": "gt.json"})
    Traceback (most recent call last):
    ...
    paddle_supernet.errors.InputError: gt.json: --out: is also --archs (an input of this command); writing it would overwrite that input: give another path
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from ..errors import InputError


def _same(a, b) -> bool:
    a, b = Path(a), Path(b)
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def refuse_output_over_inputs(outputs: Mapping[str, object], inputs: Mapping[str, object]) -> None:
    """:class:`InputError` when an output path (``{name: path}``; None entries are skipped; a list counts
    each path) resolves to one of the inputs (same file, through links too)."""
    def each(mapping):
        for name, value in mapping.items():
            for path in value if isinstance(value, (list, tuple)) else [value]:
                if path not in (None, ""):
                    yield name, path
    for out_name, out in each(outputs):
        for in_name, source in each(inputs):
            if _same(out, source):
                raise InputError(f"is also {in_name} (an input of this command); writing it would overwrite that "
                                 "input: give another path", file=str(out), key=out_name)


#: per command: (its output arguments, its input arguments), as argparse attribute -> option name
COMMAND_PATHS = {
    "sample": ({"out": "--out"}, {"from_list": "--from", "keep": "--keep"}),
    "proxy": ({"out": "--out"}, {"archs": "--archs"}),
    "merge": ({"out": "--out"}, {"archs": "--archs", "parts": "a part file"}),
    "evaluate": ({"out": "--out"}, {"archs": "--archs", "checkpoint": "--checkpoint", "gt": "--gt"}),
    "export-full": ({"out": "--out"}, {"checkpoint": "--checkpoint"}),
    "export": ({"out": "--out"}, {"checkpoint": "--checkpoint", "archs": "--archs"}),
    "search": ({"out_dir": "--out-dir"}, {"checkpoint": "--checkpoint"}),
}


#: outputs that are folders (the rest are files)
FOLDER_OUTPUTS = {("export", "out"), ("search", "out_dir")}


def check_command(args) -> None:
    """The guard for a parsed command line (see :data:`COMMAND_PATHS`; standalone and report have their own
    derived outputs, checked by :func:`standalone_outputs` and :func:`report_outputs`)."""
    outs, ins = COMMAND_PATHS.get(args.command, ({}, {}))
    for attr, flag in {**outs, "out_dir": "--out-dir", "run_dir": "--run-dir", "run_root": "--run-root"}.items():
        if getattr(args, attr, None) == "":
            raise InputError("must be a path, got ''", key=flag)
    for attr, flag in outs.items():
        path = getattr(args, attr, None)
        if not path:
            continue
        if (args.command, attr) in FOLDER_OUTPUTS:
            if Path(path).exists() and not Path(path).is_dir():
                raise InputError("is a file; give a folder to write into", file=path, key=flag)
        elif Path(path).is_dir():
            raise InputError("is a directory; give a file name to write", file=path, key=flag)
    for attr, flag in (("run_dir", "--run-dir"), ("run_root", "--run-root")):
        folder = getattr(args, attr, None)
        if folder and Path(folder).exists() and not Path(folder).is_dir():
            raise InputError("is a file; give a folder for the run", file=folder, key=flag)
    if args.command == "standalone" and args.seeds and len(set(args.seeds)) != len(args.seeds):
        raise InputError(f"names a seed twice ({args.seeds}): each seed is one training run", key="--seeds")
    refuse_output_over_inputs({flag: getattr(args, attr, None) for attr, flag in outs.items()},
                              {flag: getattr(args, attr, None) for attr, flag in ins.items()})
    if args.command == "standalone":
        from ..standalone import runs_log_path

        out = Path(args.out)
        derived = {"--out": out, "its runs log": runs_log_path(out)}
        derived.update({f"its seed {s} file": out.with_name(f"{out.stem}.seed{s}{out.suffix}") for s in args.seeds or []})
        refuse_output_over_inputs(derived, {"--archs": args.archs, "--config": args.config})
    if args.command == "report":
        out_dir = Path(args.out_dir)
        inputs = {"--gt": args.gt, "--seeds": list(args.seeds), "--submission": [s.partition("=")[2] or s
                                                                                 for s in args.submission]}
        refuse_output_over_inputs({"--out-dir": [out_dir / "report.md"]}, inputs)
        if out_dir.exists() and not out_dir.is_dir():
            raise InputError("is a file; give a folder for report.md and the plots", file=str(out_dir), key="--out-dir")


def check_run_outputs(cfg: dict, run_dir: Path, config_file: str | None) -> None:
    """A training run's outputs (checkpoint, config copy, submission, the full network it exports) must not be
    its config file or the files it reads (``checkpoint.init_from``, ``eval.archs``, ``eval.gt``, teacher weights)."""
    outputs = {"the run's checkpoint": run_dir / "checkpoint.pdparams", "the run's config copy": run_dir / "config.yaml",
               "the run's submission": run_dir / "submission.json",
               "checkpoint.export_full": cfg["checkpoint"].get("export_full")}
    inputs = {"the config file": config_file, "checkpoint.init_from": cfg["checkpoint"].get("init_from"),
              "eval.archs": cfg["eval"].get("archs"), "eval.gt": cfg["eval"].get("gt"),
              "model.pretrained": cfg["model"].get("pretrained"),
              "strategy.teacher_weights": cfg["strategy"].get("teacher_weights")}
    refuse_output_over_inputs(outputs, inputs)
    export = cfg["checkpoint"].get("export_full")
    if export and _same(export, run_dir / "checkpoint.pdparams"):  # outputs among themselves
        raise InputError("is the run's own checkpoint; the export would replace it", file=str(export),
                         key="checkpoint.export_full")
