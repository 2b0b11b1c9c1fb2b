"""Latency of an arch's deployed network on this machine, predicted from a per-unit table.

The stand-alone network of an arch is a sequence of units (``net.units()``: the stem, each
block, the head; their composition is the network's forward). Each unit is measured once
through Paddle Inference (oneDNN, the table's thread count, batch 1, the median of repeated
runs) and kept under its signature (class, input and output shapes, parameter shapes); an
arch's latency is the fixed cost of a predictor run (timed once) plus the sum over its units of
what each adds beyond it, so a search measures only the units it has not met.
The table is a JSON file for one space, input size and thread count, grown as needed and
written atomically; :func:`check_table` compares the sum with the measured end-to-end latency
of whole networks.

Example:
    >>> table = LatencyTable("runs/latency_r20_12px.json", space, cfg, threads=1)   # doctest: +SKIP
    >>> table.predict(code)                                                          # doctest: +SKIP
    0.41
"""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np

from .errors import InputError
from .io.atomic import atomic_write_text


def unit_signature(unit, in_shape, out_shape) -> str:
    """What a unit's latency depends on: its class, its input and output shapes and its parameters' shapes."""
    params = [list(p.shape) for p in unit.parameters()]
    return json.dumps([type(unit).__name__, list(in_shape), list(out_shape), params], separators=(",", ":"))


def measure_ms(layer, in_shape, threads: int = 1, repeats: int = 30) -> float:
    """Median milliseconds of one forward of ``layer`` through a Paddle Inference predictor (batch 1)."""
    from paddle.static import InputSpec

    from .inference_path import build_predictor

    layer.eval()
    with tempfile.TemporaryDirectory() as folder:
        predictor = build_predictor(layer, [InputSpec(list(in_shape), "float32", "x")], folder, threads)
        source = predictor.get_input_handle(predictor.get_input_names()[0])
        source.reshape(list(in_shape))
        source.copy_from_cpu(np.zeros(in_shape, dtype="float32"))
        for _ in range(3):
            predictor.run()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            predictor.run()
            times.append(time.perf_counter() - start)
    return 1000.0 * float(np.median(times))


class LatencyTable:
    """Per-unit latencies (ms) of one space at one input size and thread count; see the module docstring.
    ``build(code)`` makes the arch's stand-alone network (any weights: latency does not depend on them)."""

    def __init__(self, path: str | Path, space_name: str, build, in_shape, threads: int = 1, repeats: int = 30,
                 frozen: bool = False):
        """``frozen``: never measure (a unit missing from the table is an error), e.g. on data-parallel ranks."""
        self.path, self.build, self.in_shape = Path(path), build, [1, *[int(v) for v in in_shape[1:]]]
        self.frozen = frozen
        self.threads, self.repeats = int(threads), int(repeats)
        self.header = {"space": space_name, "input": self.in_shape, "threads": self.threads}
        self.units: dict[str, float] = {}
        if self.path.exists():
            try:
                stored = json.loads(self.path.read_text())
                header, units = {k: stored[k] for k in self.header}, stored["units"]
            except (ValueError, KeyError, TypeError):
                raise InputError("is not a latency table (space, input, threads, units)", file=str(self.path)) from None
            if header != self.header:
                raise InputError(f"was measured for {header}, this search needs {self.header}; use another "
                                 "table file (--latency-table)", file=str(self.path))
            self.units = {key: float(value) for key, value in units.items()}

    def _units_of(self, code: str):
        import paddle

        net = self.build(code)
        net.eval()
        if not hasattr(net, "units"):
            raise InputError(f"the stand-alone network of {self.header['space']} has no units(); a latency budget "
                             "needs one", key="--budget")
        x = paddle.zeros(self.in_shape)
        out = []
        with paddle.no_grad():
            for unit in net.units():
                y = unit(x)
                out.append((unit, list(x.shape), list(y.shape)))
                x = y
        return out

    def overhead(self) -> float:
        """The fixed cost of one predictor run (ms), timed on a bare ReLU of the input: counted once
        per network, not once per unit."""
        if "overhead" not in self.units:
            if self.frozen:
                raise InputError("has no predictor overhead and is read only here", file=str(self.path))
            import paddle

            self.units["overhead"] = measure_ms(paddle.nn.ReLU(), self.in_shape, self.threads, self.repeats)
        return self.units["overhead"]

    def predict(self, code: str) -> float:
        """Predicted latency of ``code`` in ms: the predictor's fixed cost once, plus each unit's latency
        beyond that cost (measuring the new units)."""
        grown = "overhead" not in self.units
        overhead = self.overhead()
        total = overhead
        for unit, in_shape, out_shape in self._units_of(code):
            key = unit_signature(unit, in_shape, out_shape)
            if key not in self.units:
                if self.frozen:
                    raise InputError(f"has no latency for a unit of {code} and is read only here (data-parallel "
                                     "ranks must predict alike): build it in one process first", file=str(self.path))
                self.units[key] = measure_ms(unit, in_shape, self.threads, self.repeats)
                grown = True
            total += max(self.units[key] - overhead, 0.0)
        if grown:
            atomic_write_text(self.path, json.dumps({**self.header, "units": self.units}, indent=0) + "\n")
        return total

    def measure(self, code: str) -> float:
        """Measured end-to-end latency of ``code``'s whole network in ms (same predictor settings)."""
        return measure_ms(self.build(code), self.in_shape, self.threads, self.repeats)


def check_table(table: LatencyTable, codes) -> dict:
    """Predicted against measured end-to-end latency on ``codes``: per arch and the mean absolute relative error."""
    rows = [{"code": code, "predicted_ms": table.predict(code), "measured_ms": table.measure(code)} for code in codes]
    for row in rows:
        row["relative_error"] = row["predicted_ms"] / row["measured_ms"] - 1.0
    return {"archs": rows, "mean_abs_relative_error": float(np.mean([abs(r["relative_error"]) for r in rows]))}
