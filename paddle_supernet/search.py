"""From a trained supernet to the best archs under a budget: evolutionary and random search.

Costs are counted in pure Python on the network the supernet trains (params, MACs);
constraints are upper bounds on them, and an arch outside them is never scored. An arch
is scored once by a ``score(code)`` function (the evaluator: calibrated BN, any backend);
every scored arch is appended to a JSON-lines history whose first line records what the
search is (checkpoint digest, method, constraints, seed, settings), so a killed search
resumes from it and ends exactly where an uninterrupted one does (the draws depend on the
seed and the scores alone; scores already in the history are reused, never recomputed).

Evolution follows the SPOS / mmrazor ``EvolutionSearchLoop`` defaults: a first population of
50 archs drawn uniformly within the constraints; each generation keeps the top 10 scored so
far as parents and adds 25 mutants (each choice re-drawn with probability 0.1) and 25
crossovers (each choice from either of two parents), each within the constraints. Random
search draws the same number of archs uniformly within the constraints.

Example:
    >>> from paddle_supernet.spaces import get_space
    >>> space = get_space("cvpr21_resnet20")
    >>> bounds = [Constraint("macs", 20e6)]
    >>> result = run_search(space, lambda code: -space.macs(code), bounds, evaluations=60, seed=0, population=20,
    ...                     parents=5, mutations=10, crossovers=10)
    >>> len(result.history), result.best[0][1] > -20e6
    (60, True)
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from .errors import InputError
from .rng import local_rng

COSTS = ("params", "macs", "latency")  # latency: ms of the deployed network here (a LatencyTable)
METHODS = ("evolution", "random")
SEARCH_STREAM = 41
MAX_DRAWS = 20_000


@dataclass(frozen=True)
class Constraint:
    """``cost`` (params or MACs) at most ``bound``."""

    cost: str
    bound: float

    @classmethod
    def parse(cls, text: str) -> "Constraint":
        """``"macs=2e7"`` -> ``Constraint("macs", 2e7)``; unknown costs and bad numbers are refused."""
        name, sep, value = text.partition("=")
        if not sep or name not in COSTS:
            raise InputError(f"must be COST=BOUND with COST one of {', '.join(COSTS)}, got {text!r}", key="--budget")
        try:
            bound = float(value)
        except ValueError:
            raise InputError(f"bound must be a number, got {value!r}", key="--budget") from None
        if not math.isfinite(bound) or bound <= 0:
            raise InputError(f"bound must be a finite number > 0, got {value!r}", key="--budget")
        return cls(name, bound)


def costs(space, code: str, variant: dict | None = None, latency=None) -> dict:
    """Params and MACs of ``code`` on the network actually built (``variant``), and with a
    :class:`~paddle_supernet.latency.LatencyTable` its predicted latency in ms."""
    variant = dict(variant or {})
    out = {"params": space.params(code, **variant), "macs": space.macs(code, **variant)}
    if latency is not None:
        out["latency"] = round(latency.predict(code), 4)
    return out


def check_satisfiable(space, constraints: Sequence[Constraint], distribution=None, variant=None,
                      latency=None) -> None:
    """Refuse bounds no arch meets: params, MACs and latency grow with every choice, so the smallest arch
    is the cheapest; a bound below its cost names the bound and the smallest attainable value."""
    if latency is None and any(c.cost == "latency" for c in constraints):
        raise InputError("a latency budget needs a latency table (--latency-table FILE, built as needed)",
                         key="--budget")
    cheapest = costs(space, space.smallest(distribution), variant, latency)
    for c in constraints:
        if cheapest[c.cost] > c.bound:
            raise InputError(f"{c.cost} <= {c.bound:g} is met by no arch of {space.name}: the smallest attainable is "
                             f"{cheapest[c.cost]:g}", key="--budget")


@dataclass
class SearchResult:
    """Every scored arch in scoring order (code, score, costs, generation) and the best ones."""

    history: list = field(default_factory=list)
    top: int = 5

    @property
    def best(self) -> list[tuple[str, float]]:
        ranked = sorted(self.history, key=lambda row: (-row["score"], row["code"]))
        return [(row["code"], row["score"]) for row in ranked[: self.top]]


class SearchHistory:
    """The JSON-lines history: a header line, then one line per scored arch (flushed as it comes)."""

    def __init__(self, path: str | Path | None, header: dict, write: bool = True):
        """``write`` False: read an existing history only (a data-parallel rank other than 0)."""
        self.path, self.header, self.scores, self.write = (Path(path) if path else None), header, {}, write
        if self.path is None:
            return
        if self.path.exists():
            rows = [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]
            if not rows or rows[0] != json.loads(json.dumps(header)):
                raise InputError("was written by another search (checkpoint, method, constraints, seed or settings); "
                                 "delete it to start over, or resume with what made it", file=str(self.path))
            self.scores = {row["code"]: row["score"] for row in rows[1:]}
        elif self.write:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(header) + "\n")

    def append(self, row: dict) -> None:
        if self.path is not None and self.write:
            with open(self.path, "a") as handle:
                handle.write(json.dumps(row) + "\n")
                handle.flush()


def run_search(space, score: Callable[[str], float], constraints: Sequence[Constraint], method: str = "evolution",
               evaluations: int = 1000, seed: int = 0, population: int = 50, parents: int = 10, mutations: int = 25,
               crossovers: int = 25, mutate_prob: float = 0.1, distribution=None, variant=None,
               history: SearchHistory | None = None, progress: Callable | None = None, top: int = 5,
               score_many: Callable | None = None, latency=None) -> SearchResult:
    """Search ``space`` for the archs ``score`` rates highest within ``constraints``; see the module docstring.
    ``score_many(codes)``: the scores of a generation's new archs, in order, as an iterable (default: ``score``
    of each in turn, each kept as it comes); e.g. a generation spread over data-parallel ranks."""
    if method not in METHODS:
        raise InputError(f"must be one of {', '.join(METHODS)}, got {method!r}", key="--method")
    if evaluations < 1 or population < 1 or not 1 <= parents <= population or mutations < 0 or crossovers < 0 \
            or not 0 <= mutate_prob <= 1:
        raise InputError("needs evaluations, population >= 1, 1 <= parents <= population, mutations and crossovers "
                         ">= 0 and 0 <= mutate_prob <= 1")
    check_satisfiable(space, constraints, distribution, variant, latency)
    history = history or SearchHistory(None, {})
    timed = latency if any(c.cost == "latency" for c in constraints) else None  # measured only when bounded
    choices = space.choices(distribution)
    result = SearchResult(top=top)
    scored: dict[str, float] = {}
    known_costs: dict[str, dict] = {}  # a code's costs, counted (or its latency predicted) once

    def cost_of(code: str) -> dict:
        if code not in known_costs:
            known_costs[code] = costs(space, code, variant, timed)
        return known_costs[code]

    def fits(code: str) -> bool:
        cost = cost_of(code)
        return all(cost[c.cost] <= c.bound for c in constraints)

    def evaluate_all(codes: list, generation: int) -> None:
        fresh: list = []
        for code in codes:  # in order, each once, up to the number of evaluations
            if code not in scored and code not in fresh and len(scored) + len(fresh) < evaluations:
                fresh.append(code)
        missing = [code for code in fresh if code not in history.scores]
        values = iter(score_many(missing) if score_many is not None and missing else (float(score(c)) for c in missing))
        for code in fresh:
            register(code, history.scores[code] if code in history.scores else float(next(values)), generation)

    def register(code: str, value: float, generation: int) -> None:
        scored[code] = value
        row = {"code": code, "score": value, **cost_of(code), "generation": generation}
        result.history.append(row)
        if code not in history.scores:
            history.append(row)
        if progress:
            progress(len(scored), value)

    def draw(rng, make) -> str | None:
        for _ in range(MAX_DRAWS):
            code = make(rng)
            if code not in scored and fits(code):
                return code
        return None

    def uniform(rng) -> str:
        return space.compose({c.name: c.options[int(rng.integers(len(c.options)))] for c in choices}, distribution)

    generation = 0
    while len(scored) < evaluations:
        rng = local_rng(seed, generation, stream=SEARCH_STREAM)
        if method == "random" or generation == 0:
            wanted = evaluations - len(scored) if method == "random" else population
            batch = []
            for _ in range(wanted):
                code = draw(rng, uniform)
                if code is None:
                    break
                batch.append(code)
                scored.setdefault(code, None)  # reserved: distinct within the batch
            for code in batch:
                scored.pop(code)
            evaluate_all(batch, generation)
            if method == "random" or not batch:
                break
        else:
            top_codes = [code for code, _ in sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))[:parents]]
            values = [space.choice_values(code, distribution) for code in top_codes]

            def pick(r, c):
                return c.options[int(r.integers(len(c.options)))]

            # a choice a parent does not hold (a block beyond its depth) is drawn anew
            def mutant(r, values=values):
                parent = values[int(r.integers(len(values)))]
                return space.compose({c.name: pick(r, c) if r.random() < mutate_prob or c.name not in parent
                                      else parent[c.name] for c in choices}, distribution)

            def child(r, values=values):
                a, b = values[int(r.integers(len(values)))], values[int(r.integers(len(values)))]
                mixed = {}
                for c in choices:
                    first, second = (a, b) if r.random() < 0.5 else (b, a)
                    mixed[c.name] = first.get(c.name, second.get(c.name)) if c.name in first or c.name in second \
                        else pick(r, c)
                return space.compose(mixed, distribution)

            new = [code for make, count in ((mutant, mutations), (child, crossovers))
                   for code in (draw(rng, make) for _ in range(count)) if code is not None]
            new = list(dict.fromkeys(new))
            if not new:
                break  # the constraints leave nothing new near the parents
            evaluate_all(new, generation)
        generation += 1
    return result


def plot_search(result: SearchResult, cost: str, path: str | Path, title: str = "search",
                bound: float | None = None) -> None:
    """Score against ``cost`` for every scored arch, the best one marked (and the budget ``bound`` as a
    dashed line); a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    xs = [row[cost] for row in result.history]
    ax.scatter(xs, [row["score"] for row in result.history], s=8, alpha=0.5, label="scored archs")
    if result.best:
        code, value = result.best[0]
        best = next(row for row in result.history if row["code"] == code)
        ax.scatter([best[cost]], [value], s=80, marker="*", color="red", label="best")
    if bound is not None:
        ax.axvline(bound, linestyle="--", color="grey", label=f"{cost} budget")
    ax.set_xlabel(cost)
    ax.set_ylabel("supernet score")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
