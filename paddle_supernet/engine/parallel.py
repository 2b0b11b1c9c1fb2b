"""Data-parallel training with Paddle's own ``paddle.distributed`` (launch + DataParallel).

Launch one process per device with ``python -m paddle.distributed.launch``; each
rank trains on its share of every global batch (``data.batch_size`` is the
global batch). Strategies run several backward passes per step (the teacher and
K subnets), so gradients accumulate locally under ``DataParallel.no_sync()`` and
are averaged across ranks once per step with ``fused_allreduce_gradients``.
Subnets come from the local RNG of (seed, epoch, step, k), identical on every rank.

Example:
    $ python -m paddle.distributed.launch --nproc_per_node 2 tools/cli.py train --config configs/X.yaml
"""
from __future__ import annotations

import contextlib

import paddle
import paddle.distributed as dist


class _Forwarding:
    """What a strategy sees: forwards through DataParallel, ``set_active`` on the supernet itself."""

    def __init__(self, parallel_model, model):
        self._parallel_model, self._model = parallel_model, model

    def __call__(self, *args, **kwargs):
        return self._parallel_model(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._model, name)


def compare_digests(values: list[int], step: int) -> None:
    """Raise :class:`RuntimeError` unless every rank's value equals rank 0's.

    >>> compare_digests([5, 5], step=3)
    """
    differ = [rank for rank, value in enumerate(values) if value != values[0]]
    if differ:
        raise RuntimeError(f"data-parallel ranks diverged at step {step}: ranks {differ} trained other archs (or hold "
                           "other constraint candidates) than rank 0; their gradients must not be averaged. A sampler "
                           "or strategy draws from something other than the local (seed, epoch, step) RNG")


class DataParallelRun:
    """World size, rank, and the per-step gradient synchronisation of one training process."""

    def __init__(self, model: paddle.nn.Layer):
        self.model = model
        self.world = dist.get_world_size()
        self.rank = dist.get_rank() if self.world > 1 else 0
        self._parallel_model = None
        if self.world > 1:
            dist.init_parallel_env()
            self._parallel_model = paddle.DataParallel(model)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def shard(self) -> tuple[int, int]:
        return self.rank, self.world

    @contextlib.contextmanager
    def accumulate(self):
        """Yield the model a strategy should use; gradients stay local until :meth:`sync_gradients`."""
        if self._parallel_model is None:
            yield self.model
            return
        with self._parallel_model.no_sync():
            yield _Forwarding(self._parallel_model, self.model)

    def wait_for_main(self) -> None:
        """Every rank waits here until all arrive (no-op in a single process): files rank 0 writes
        (the last checkpoint, an exported full network) exist for the next stage of every rank."""
        if self._parallel_model is not None:
            dist.barrier()

    def check_agreement(self, digest: str, step: int) -> None:
        """Compare ``digest`` (e.g. a hash of the archs and candidates of a step) across the ranks;
        :class:`RuntimeError` naming the ranks that differ (no-op in a single process)."""
        if self._parallel_model is None:
            return
        value = paddle.to_tensor([int(digest[:15], 16)], dtype="int64")
        gathered: list = []
        dist.all_gather(gathered, value)
        compare_digests([int(t.numpy()[0]) for t in gathered], step)

    def sync_gradients(self) -> None:
        """Average the accumulated gradients over the ranks (no-op in a single process)."""
        if self._parallel_model is not None:
            from paddle.distributed.fleet.utils.hybrid_parallel_util import fused_allreduce_gradients

            fused_allreduce_gradients([p for p in self.model.parameters() if not p.stop_gradient], None)
