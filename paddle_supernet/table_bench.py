"""Where a paper table is measured and what its rows are: :class:`TableRow` (a stage of a chain, its
submission in a run and its copy kept beside the benchmark) and :class:`TableBench` (a benchmark
folder's ``tables.yaml``: its runs' folder, the twin rule, the network sizes are counted on, a second
ground truth), read and checked by :func:`read_table_bench`.

Example:
    >>> row = TableRow("APS_v3", "configs/cvpr22/fmnist/runner_up/chain_aps_v3.yaml", "runner_up_seed{seed}", "aps_v3")
    >>> row.kept(Path("benchmarks/fmnist32-r48/tables"), 1).as_posix()
    'benchmarks/fmnist32-r48/tables/runner_up_seed1/aps_v3.json'
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from .errors import InputError


@dataclass(frozen=True)
class TableRow:
    """One row of a paper table: ``stage`` of ``chain`` (a chain YAML, relative to the repository),
    run under ``run_dir`` (a name with ``{seed}``, inside the table's run root)."""

    label: str
    chain: str
    run_dir: str
    stage: str

    def submission(self, run_root: Path, seed: int) -> str:
        return str(run_root / self.run_dir.format(seed=seed) / self.stage / "submission.json")

    def kept(self, kept: Path, seed: int) -> Path:
        """Where :func:`keep_submissions` keeps the row's submission beside the benchmark (committed:
        a fresh checkout resumes from it and the tables are written from it)."""
        return kept / self.run_dir.format(seed=seed) / f"{self.stage}.json"


@dataclass(frozen=True)
class TableBench:
    """Where a paper table is measured and how its chains run there: ``folder`` holds gt.json,
    gt.seed0.json and gt.seed1.json (the tables file is written there); ``run_root`` is the runs'
    folder (relative to the repository); ``heading`` opens the tables file; ``variant`` is the
    network the sizes are counted on; ``overrides`` are ``--set`` values for every non-shared
    stage of every chain (a twin rule such as ``optimizer.lr_scale=4``); ``every_stage`` are
    ``--set-all`` values for every stage, the shared ones too (another input, e.g.
    ``data.image_size=32``), whose shared stages then run under ``shared_root``. ``second_truth``
    (``label``, ``path`` relative to ``folder``, optional ``variant`` and ``num_classes``: the network that
    truth trained, on which sizes are counted) is a second ground truth of some of the benchmark's archs,
    e.g. their ImageNet accuracies: each group's rows are also compared on it."""

    folder: Path
    run_root: str
    heading: str
    variant: Mapping | None = None
    overrides: tuple[str, ...] = ()
    every_stage: tuple[str, ...] = ()
    shared_root: str | None = None
    second_truth: Mapping | None = None


#: the file in a benchmark folder that says how the paper-table tools run on it
TABLE_BENCH_FILE = "tables.yaml"
_TABLE_BENCH_KEYS = {"heading": str, "run_root": str, "variant": dict, "set": list, "set_all": list,
                     "shared_root": str, "second_truth": dict}
_SECOND_TRUTH_KEYS = {"label": str, "path": str, "variant": dict, "num_classes": int}


def read_table_bench(folder: str | Path) -> TableBench:
    """The :class:`TableBench` of ``folder/tables.yaml`` (keys ``heading`` and ``run_root``, required;
    ``variant``, ``set``, ``set_all``, ``shared_root`` and ``second_truth``, optional; ``set_all`` needs
    ``shared_root``); one clear error naming the file and key otherwise.

    Example:
        >>> bench = read_table_bench("benchmarks/fmnist-r48")                      # doctest: +SKIP
        >>> bench.run_root, bench.overrides                                         # doctest: +SKIP
        ('runs/cvpr22_tables', ())
    """
    from .engine.config import load_config, read_yaml_mapping

    folder = Path(folder)
    path = folder / TABLE_BENCH_FILE
    data = read_yaml_mapping(path)
    for key, value in data.items():
        if key not in _TABLE_BENCH_KEYS:
            raise InputError(f"unknown key (known: {', '.join(_TABLE_BENCH_KEYS)})", file=str(path), key=key)
        if not isinstance(value, _TABLE_BENCH_KEYS[key]):
            raise InputError(f"must be a {_TABLE_BENCH_KEYS[key].__name__}, got {value!r}", file=str(path), key=key)
    for key in ("heading", "run_root"):
        if not data.get(key):
            raise InputError("missing", file=str(path), key=key)
    for key in ("run_root", "shared_root"):
        if key in data and Path(data[key]).is_absolute():
            raise InputError(f"must be relative to the repository, got {data[key]!r}", file=str(path), key=key)
    second = data.get("second_truth")
    for key, value in (second or {}).items():
        if key not in _SECOND_TRUTH_KEYS or not isinstance(value, _SECOND_TRUTH_KEYS[key]):
            raise InputError(f"must be a mapping of label (text), path (a file relative to this folder) and "
                             f"optionally variant (a mapping) and num_classes (an integer), got {key}: {value!r}",
                             file=str(path), key="second_truth")
    if second is not None and not (second.get("label") and second.get("path")):
        raise InputError("needs a label and a path", file=str(path), key="second_truth")
    if second is not None and Path(second["path"]).is_absolute():
        raise InputError(f"path must be relative to {folder}, got {second['path']!r}", file=str(path),
                         key="second_truth.path")
    if data.get("set_all") and not data.get("shared_root"):
        raise InputError("set_all changes the shared stages too; give shared_root, the folder they run in",
                         file=str(path), key="shared_root")
    for key in ("set", "set_all"):
        for i, pair in enumerate(data.get(key) or []):
            try:
                if not isinstance(pair, str):
                    raise InputError(f"must be a KEY=VALUE string, got {pair!r}")
                load_config(None, [pair])
            except InputError as error:
                raise InputError(error.problem, file=str(path), key=f"{key}[{i}]") from None
    return TableBench(folder, data["run_root"], data["heading"].rstrip("\n"), data.get("variant"),
                      tuple(data.get("set") or []), tuple(data.get("set_all") or []), data.get("shared_root"),
                      second)


def bench_truths(bench: TableBench, num_classes: int) -> list[dict]:
    """The truths of a :class:`TableBench` (mappings of ``name``, ``path``, ``num_classes`` and ``variant``, as
    :func:`~paddle_supernet.table_summary.summary_markdown` and the paper orderings take them): its
    ground truth, then its ``second_truth`` when that file is here."""
    from .io.challenge_json import read_arch_file

    gt_path = bench.folder / "gt.json"
    truths = [{"name": f"`gt.json` ({len(read_arch_file(str(gt_path)))} archs)", "path": gt_path,
               "num_classes": num_classes, "variant": bench.variant}]
    second = bench.second_truth
    if second and (bench.folder / second["path"]).exists():
        path = bench.folder / second["path"]
        truths.append({"name": f"`{path.name}` ({len(read_arch_file(str(path)))} archs)", "path": path,
                       "num_classes": second.get("num_classes", num_classes), "variant": second.get("variant")})
    return truths
