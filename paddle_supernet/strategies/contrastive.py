"""MoCo v2 pretraining of the supernet (the 2022 winner's stage 1).

Each step gets two augmented views of every image (the loop asks the data for
``views = 2``). The key encoder moves towards the query encoder
(``momentum``), encodes the second view with the largest arch; the query
encoder encodes the first view with the largest arch (``query: largest``, as
released) or with the sampler's K archs (``query: sampled``); the loss is
InfoNCE at ``temperature`` against the key and the queue; the keys then enter
the queue (gathered from every data-parallel rank first, as MoCo does).

``passes: 2`` repeats the EMA, key and query computation once more in the same
step, as the released code called its step function twice; with
``swap_views`` the second pass exchanges the views' roles (the symmetric loss;
the released code kept the roles, trap T7). The queue then takes the mean of
the passes' keys, not re-normalised, as released.

BN leakage (MoCo's shuffling BN): with ``shuffle_bn`` the key encoder sees the
global batch in a seeded random order, each process its contiguous share, so a
key's BN statistics are never those of its query's images; ``bn_splits`` > 1
splits each process's query and key batches into that many chunks with their
own BN statistics (one GPU's share in MoCo v2, in one process). With one
process and ``bn_splits: 1`` there is nothing to shuffle between (the guard is
off); frozen BN statistics (``model.bn_stats: frozen``) leak nothing.

Example:
    >>> strategy = build_strategy({"name": "moco", "temperature": 0.1}, space, seed=0)  # doctest: +SKIP
"""
from __future__ import annotations

import paddle
import paddle.distributed as dist

from ..catalog import STRATEGY_DEFAULTS
from ..errors import InputError
from ..nn.contrastive import info_nce
from ..rng import local_rng
from .base import TrainingStrategy

QUERIES = ("largest", "sampled")
SHUFFLE_BN_STREAM = 22


class MocoPretraining(TrainingStrategy):
    """See the module docstring."""

    defaults = STRATEGY_DEFAULTS["moco"]
    views = 2

    def __init__(self, space, seed: int, temperature: float = 0.1, momentum: float = 0.999, query: str = "largest",
                 k: int = 1, passes: int = 1, swap_views: bool = False, reduce: str = "sum", shuffle_bn: bool = True,
                 bn_splits: int = 1):
        super().__init__(space, seed)
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or temperature <= 0:
            raise InputError(f"must be a number > 0, got {temperature!r}", key="strategy.temperature")
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 <= momentum < 1:
            raise InputError(f"must be a number in [0, 1), got {momentum!r}", key="strategy.momentum")
        if query not in QUERIES:
            raise InputError(f"must be one of {', '.join(QUERIES)}, got {query!r}", key="strategy.query")
        if not isinstance(shuffle_bn, bool):
            raise InputError(f"must be true or false, got {shuffle_bn!r}", key="strategy.shuffle_bn")
        for key, value in (("k", k), ("passes", passes), ("bn_splits", bn_splits)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"must be an integer >= 1, got {value!r}", key=f"strategy.{key}")
        self.temperature, self.momentum, self.query = float(temperature), float(momentum), query
        self.k, self.passes, self.swap_views, self.reduce = k, passes, bool(swap_views), self._check_reduce(reduce)
        self.shuffle_bn, self.bn_splits = shuffle_bn, bn_splits

    def step(self, model, images, labels, epoch: int, step: int) -> dict:
        if not hasattr(model, "embed"):
            raise InputError("the moco strategy trains a contrastive supernet; set model.contrastive",
                             key="model.contrastive")
        n = images.shape[0] // 2
        first, second = images[:n], images[n:]
        largest = self.space.largest(self.distribution)
        codes = [largest] if self.query == "largest" else self.step_archs(epoch, step, self.k)
        scale = 1.0 / len(codes) if self.reduce == "mean" else 1.0
        keys, total = [], 0.0
        for p in range(self.passes):
            query_view, key_view = (second, first) if self.swap_views and p % 2 else (first, second)
            model.momentum_update(self.momentum)
            key = self._keys(model, key_view, largest, epoch, step, p)
            for code in codes:
                model.set_active(code)
                loss = info_nce(model.embed(query_view, self.bn_splits), key, model.queue, self.temperature)
                (loss * scale).backward()
                total += float(loss)
            keys.append(key)
        new_keys = keys[0] if len(keys) == 1 else paddle.add_n(keys) / len(keys)
        if dist.get_world_size() > 1:
            gathered: list = []
            dist.all_gather(gathered, new_keys)
            new_keys = paddle.concat(gathered)
        model.enqueue(new_keys)
        return {"loss/infonce": total / (len(codes) * self.passes)}

    def _keys(self, model, images, code: str, epoch: int, step: int, p: int):
        """Keys of this process's ``images``, through shuffled BN chunks when ``shuffle_bn`` (see the module)."""
        world = dist.get_world_size()
        if not self.shuffle_bn or world * self.bn_splits == 1:
            return model.keys(images, code, self.bn_splits)
        n = images.shape[0]
        order = local_rng(self.seed, epoch, step, p, stream=SHUFFLE_BN_STREAM).permutation(n * world)
        if world == 1:
            return model.keys(images, code, self.bn_splits, order)
        gathered: list = []
        dist.all_gather(gathered, images)  # the global batch, rank 0's share first
        rank = dist.get_rank()
        mine = paddle.to_tensor(order[rank * n:(rank + 1) * n].astype("int64"))
        shuffled_keys: list = []
        dist.all_gather(shuffled_keys, model.keys(paddle.gather(paddle.concat(gathered), mine), code, self.bn_splits))
        shuffled = paddle.concat(shuffled_keys)  # row j: the key of global image order[j]
        keys = paddle.scatter(paddle.zeros_like(shuffled), paddle.to_tensor(order.astype("int64")), shuffled)
        return keys[rank * n:(rank + 1) * n]
