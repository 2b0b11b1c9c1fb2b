"""The supernet with MoCo v2 parts for contrastive pretraining (the 2022 winner's stage 1).

:class:`ContrastiveSupernet` holds the query encoder (``backbone``, the
supernet, + ``neck``: Linear(C, C), ReLU, Linear(C, dim) on the pooled
features), the key encoder (``key_backbone`` + ``key_neck``, an exponential
moving average of the query side, never trained by gradients) and the queue of
keys (``queue`` [dim, size], L2-normalised columns, and ``queue_ptr``). All of
it is in the state dict, so a resumed run continues with the same keys and
queue. Its forward is the backbone's (logits), so the evaluator scores a
stage-1 checkpoint like any other; a next stage that starts from it takes the
``backbone.*`` weights and drops the rest.

Example:
    >>> model = ContrastiveSupernet(supernet, key_supernet, dim=128, queue_size=4096, seed=0)  # doctest: +SKIP
    >>> q = model.embed(view1); k = model.keys(view2); model.enqueue(k)                      # doctest: +SKIP
"""
from __future__ import annotations

import numpy as np
import paddle
import paddle.nn.functional as F
from paddle import nn

from ..errors import InputError
from ..rng import local_rng

QUEUE_STREAM = 21


class ProjectionNeck(nn.Layer):
    """Linear(C, C), ReLU, Linear(C, dim); a narrower input (a sampled subnet) uses the leading
    input columns of the first layer. Kaiming-normal weights, zero biases (as released)."""

    def __init__(self, width: int, dim: int):
        super().__init__()
        init = paddle.ParamAttr(initializer=nn.initializer.KaimingNormal())
        zero = paddle.ParamAttr(initializer=nn.initializer.Constant(0.0))
        self.hidden = nn.Linear(width, width, weight_attr=init, bias_attr=zero)
        self.out = nn.Linear(width, dim, weight_attr=init, bias_attr=zero)

    def forward(self, features):
        width = features.shape[1]
        weight = self.hidden.weight if width == self.hidden.weight.shape[0] else self.hidden.weight[:width]
        return self.out(F.relu(F.linear(features, weight, self.hidden.bias)))


class ContrastiveSupernet(nn.Layer):
    """See the module docstring."""

    def __init__(self, backbone: nn.Layer, key_backbone: nn.Layer, dim: int = 128, queue_size: int = 40960,
                 seed: int = 0, sync_neck: bool = True):
        """``sync_neck`` False: the key neck keeps its own initialisation instead of starting as a copy of
        the query neck (the released code built the two encoders separately; the EMA then joins them)."""
        super().__init__()
        self.backbone, self.key_backbone = backbone, key_backbone
        width = backbone.feature_width
        self.neck, self.key_neck = ProjectionNeck(width, dim), ProjectionNeck(width, dim)
        queue = local_rng(seed, stream=QUEUE_STREAM).standard_normal((dim, queue_size)).astype("float32")
        self.register_buffer("queue", paddle.to_tensor(queue / np.linalg.norm(queue, axis=0, keepdims=True)))
        self.register_buffer("queue_ptr", paddle.zeros([1], dtype="int64"))
        self.sync_neck = bool(sync_neck)
        self.sync_keys()
        for p in list(self.key_backbone.parameters()) + list(self.key_neck.parameters()):
            p.stop_gradient = True

    # ---- the supernet interface (forwarded to the query backbone) --------------------------------
    def set_active(self, code: str, **options) -> None:
        self.backbone.set_active(code, **options)

    def forward(self, images):
        return self.backbone(images)

    def export(self, code: str):
        return self.backbone.export(code)

    def active_network(self) -> nn.Layer:
        """What scoring runs (and BN calibration recalibrates): the query backbone."""
        return self.backbone

    def load_plain(self, state: dict) -> None:
        """Query and key encoders start from one plain supernet's weights."""
        self.backbone.set_state_dict(state)
        self.sync_keys()

    def plain_targets(self) -> list:
        return [self.backbone, self.key_backbone]

    # ---- MoCo ------------------------------------------------------------------------------------
    def _pairs(self, with_neck: bool = True):
        """(key tensor, query tensor) of every float weight and BN statistic of backbone and neck."""
        sides = ((self.key_backbone, self.backbone), (self.key_neck, self.neck)) if with_neck else \
            ((self.key_backbone, self.backbone),)
        for key_side, query_side in sides:
            query = query_side.state_dict()
            for name, tensor in key_side.state_dict().items():
                if tensor.dtype in (paddle.float32, paddle.float64):
                    yield tensor, query[name]

    @paddle.no_grad()
    def sync_keys(self) -> None:
        """Key encoder := query encoder (the backbone only, unless ``sync_neck``)."""
        for key, query in self._pairs(with_neck=self.sync_neck):
            key.set_value(query)

    @paddle.no_grad()
    def momentum_update(self, momentum: float) -> None:
        """``key = momentum * key + (1 - momentum) * query`` over weights and BN statistics (as released)."""
        for key, query in self._pairs():
            key.set_value(key * momentum + query * (1.0 - momentum))

    def embed(self, images, bn_splits: int = 1):
        """L2-normalised query embeddings of the active arch; ``bn_splits`` > 1: the batch goes through in
        that many consecutive chunks, each with its own BN batch statistics (one GPU's share in MoCo)."""
        return F.normalize(self.neck(_in_chunks(self.backbone.features, images, bn_splits)), axis=1)

    @paddle.no_grad()
    def keys(self, images, code: str, bn_splits: int = 1, order=None):
        """L2-normalised key embeddings of arch ``code`` of the key encoder (no gradient).

        ``order`` (a permutation of the batch): the images go through shuffled, in ``bn_splits`` chunks, and
        the keys come back in the images' order, so no key shares BN statistics with its query's chunk
        (MoCo's shuffling BN, within one process)."""
        self.key_backbone.set_active(code)
        if order is None:
            return F.normalize(self.key_neck(_in_chunks(self.key_backbone.features, images, bn_splits)), axis=1)
        order = paddle.to_tensor(np.asarray(order, dtype="int64"))
        shuffled = _in_chunks(self.key_backbone.features, paddle.gather(images, order), bn_splits)
        keys = F.normalize(self.key_neck(shuffled), axis=1)
        return paddle.scatter(paddle.zeros_like(keys), order, keys)

    @paddle.no_grad()
    def enqueue(self, keys) -> None:
        """Write ``keys`` [n, dim] into the queue at ``queue_ptr`` (wrapping), oldest first out."""
        size = self.queue.shape[1]
        n = keys.shape[0]
        start = int(self.queue_ptr.numpy()[0])
        columns = (start + np.arange(n)) % size
        queue = self.queue.numpy()
        queue[:, columns] = keys.numpy().T
        self.queue.set_value(queue)
        self.queue_ptr.set_value(np.array([(start + n) % size], dtype="int64"))


def _in_chunks(forward, images, splits: int):
    """``forward`` over ``splits`` consecutive chunks of the batch, concatenated (BN statistics per chunk)."""
    if splits <= 1:
        return forward(images)
    n = images.shape[0]
    if n % splits:
        raise InputError(f"the batch of {n} images does not split into {splits} BN chunks of equal size",
                         key="strategy.bn_splits")
    return paddle.concat([forward(chunk) for chunk in paddle.split(images, splits)])


def info_nce(query, key, queue, temperature: float):
    """MoCo's InfoNCE: CE of ``[q.k, q.queue] / T`` to the positive (index 0), batch mean."""
    positive = (query * key).sum(axis=1, keepdim=True)
    negative = paddle.matmul(query, queue)
    logits = paddle.concat([positive, negative], axis=1) / temperature
    return F.cross_entropy(logits, paddle.zeros([query.shape[0], 1], dtype="int64"))
