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
                 seed: int = 0):
        super().__init__()
        self.backbone, self.key_backbone = backbone, key_backbone
        width = backbone.feature_width
        self.neck, self.key_neck = ProjectionNeck(width, dim), ProjectionNeck(width, dim)
        queue = local_rng(seed, stream=QUEUE_STREAM).standard_normal((dim, queue_size)).astype("float32")
        self.register_buffer("queue", paddle.to_tensor(queue / np.linalg.norm(queue, axis=0, keepdims=True)))
        self.register_buffer("queue_ptr", paddle.zeros([1], dtype="int64"))
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
    def _pairs(self):
        """(key tensor, query tensor) of every float weight and BN statistic of backbone and neck."""
        for key_side, query_side in ((self.key_backbone, self.backbone), (self.key_neck, self.neck)):
            query = query_side.state_dict()
            for name, tensor in key_side.state_dict().items():
                if tensor.dtype in (paddle.float32, paddle.float64):
                    yield tensor, query[name]

    @paddle.no_grad()
    def sync_keys(self) -> None:
        """Key encoder := query encoder."""
        for key, query in self._pairs():
            key.set_value(query)

    @paddle.no_grad()
    def momentum_update(self, momentum: float) -> None:
        """``key = momentum * key + (1 - momentum) * query`` over weights and BN statistics (as released)."""
        for key, query in self._pairs():
            key.set_value(key * momentum + query * (1.0 - momentum))

    def embed(self, images):
        """L2-normalised query embeddings of the active arch."""
        return F.normalize(self.neck(self.backbone.features(images)), axis=1)

    @paddle.no_grad()
    def keys(self, images, code: str):
        """L2-normalised key embeddings of arch ``code`` of the key encoder (no gradient)."""
        self.key_backbone.set_active(code)
        return F.normalize(self.key_neck(self.key_backbone.features(images)), axis=1).detach()

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


def info_nce(query, key, queue, temperature: float):
    """MoCo's InfoNCE: CE of ``[q.k, q.queue] / T`` to the positive (index 0), batch mean."""
    positive = (query * key).sum(axis=1, keepdim=True)
    negative = paddle.matmul(query, queue)
    logits = paddle.concat([positive, negative], axis=1) / temperature
    return F.cross_entropy(logits, paddle.zeros([query.shape[0], 1], dtype="int64"))
