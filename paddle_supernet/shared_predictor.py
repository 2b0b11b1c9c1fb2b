"""One Paddle Inference predictor per network structure, the weights fed as inputs.

The ``inference`` backend traces, saves and loads every arch's subnet (about a second
for ResNet48), which is most of its cost at small image sizes. Archs whose exported
networks differ only in channel counts share one program here: each BatchNorm is folded
into the convolution before it, every remaining parameter becomes an input of dynamic
shape, and the predictor built for the first arch of a structure serves the rest
(``eval.backend: shared_inference``), from the structure's second arch on.

oneDNN keeps the reordered weights of an input shape it has seen, per predictor, so a
predictor fed new weights of an earlier shape would compute with the old ones. Each arch
therefore runs on a clone of its structure's predictor (``predictor.clone()``: the same
optimised program, some tens of milliseconds), whose oneDNN objects are its own
(``tests/test_shared_predictor.py`` checks archs of equal shapes in a row, with other
predictors running in between; ``bench/weights_as_inputs_probe.py`` shows the failure).

Example:
    >>> runner = SharedPredictors(threads=1)                       # doctest: +SKIP
    >>> logits = runner.logits(plain_net, [images_nchw_float32])   # doctest: +SKIP
"""
from __future__ import annotations

import tempfile
from collections import OrderedDict

import numpy as np
from paddle import nn
from paddle.static import InputSpec

from .inference_path import InferenceRunner, build_predictor, default_use_gpu, replace_sublayer, run_batches

#: layer attributes that change the program (channel counts do not: they are in the weights' shapes)
_STRUCTURAL = ("_stride", "_padding", "_dilation", "_groups", "_data_format", "_padding_mode", "_kernel_size",
               "ksize", "kernel_size", "stride", "padding", "ceil_mode", "exclusive", "output_size", "_mode",
               "p", "mode", "axis", "_axis", "_name")
_CONVS = (nn.Conv2D,)
_NORMS = (nn.BatchNorm2D,)


def structure_signature(net: nn.Layer) -> str:
    """What a program of ``net`` depends on besides its weights' sizes: the layer tree, the
    structural attributes, which parameters exist and which of their dimensions are 1.

    Example:
        >>> structure_signature(nn.Conv2D(3, 8, 3)) == structure_signature(nn.Conv2D(5, 16, 3))
        True
    """
    parts = [type(net).__name__]
    for name, layer in net.named_sublayers(include_self=True):
        attrs = {key: getattr(layer, key) for key in _STRUCTURAL if key in vars(layer)}
        # each parameter's rank and unit dimensions (kept fixed in the program: some ops check them)
        params = sorted((key, tuple(int(n) == 1 for n in value.shape)) for key, value in layer._parameters.items()
                        if value is not None)
        parts.append(f"{name}:{type(layer).__name__}:{sorted(attrs.items())}:{params}")
    return "\n".join(parts)


def fold_and_strip(net: nn.Layer) -> tuple[list[tuple[nn.Layer, str]], list[np.ndarray]]:
    """Fold every BatchNorm2D (eval statistics) into the Conv2D defined just before it (its input),
    replace it by an identity, and take every parameter out of ``net``. Returns the slots ``(layer, name)`` the
    weights belong to and their values (numpy float32), in the same order. ``net`` is changed.
    """
    slots, values, previous = [], [], None
    folded: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for path, layer in list(net.named_sublayers()):
        if isinstance(layer, _NORMS) and previous is not None and previous._out_channels == layer._num_features:
            conv = previous
            scale = layer.weight.numpy().astype(np.float64) / np.sqrt(layer._variance.numpy().astype(np.float64)
                                                                      + layer._epsilon)
            weight = conv.weight.numpy().astype(np.float64) * scale.reshape(-1, 1, 1, 1)
            bias = conv.bias.numpy().astype(np.float64) if conv.bias is not None else 0.0
            bias = (bias - layer._mean.numpy()) * scale + layer.bias.numpy()
            folded[id(conv)] = (weight.astype(np.float32), bias.astype(np.float32))
            replace_sublayer(net, path, nn.Identity())
            previous = None
            continue
        previous = layer if isinstance(layer, _CONVS) else None  # only a BN defined right after its conv
    for _, layer in net.named_sublayers():
        if id(layer) in folded:  # a folded conv gets a bias even if it had none
            weights = list(zip(("weight", "bias"), folded[id(layer)]))
        else:
            weights = [(name, param.numpy().astype(np.float32)) for name, param in layer._parameters.items()
                       if param is not None]
        for name, value in weights:
            layer._parameters.pop(name, None)
            slots.append((layer, name))
            values.append(np.ascontiguousarray(value))
    return slots, values


class _WeightsAsInputs(nn.Layer):
    """``net`` (stripped by :func:`fold_and_strip`) whose weights come with the images."""

    def __init__(self, net: nn.Layer, slots: list[tuple[nn.Layer, str]]):
        super().__init__()
        self.net, self._slots = net, slots

    def forward(self, x, weights):
        for (layer, name), value in zip(self._slots, weights):
            object.__setattr__(layer, name, value)
        return self.net(x)


class SharedPredictors:
    """Predictors keyed by :func:`structure_signature`, the least recently used dropped beyond ``keep``.

    A structure's first arch runs on a predictor of its own (:class:`InferenceRunner`: its
    parameters let oneDNN fuse bias, activation and residual into the convolutions, which
    runs the forward about 1.8x faster than the shared program); the shared program is built
    at its second arch. So a list of distinct structures costs what the ``inference``
    backend costs, and a sorted list pays one build per structure.
    """

    def __init__(self, threads: int = 0, use_gpu: bool | None = None, keep: int = 8, remember: int = 4096):
        if keep < 1:
            raise ValueError(f"keep must be at least 1, not {keep}")
        self.threads, self.keep, self.remember = threads, keep, remember
        self.use_gpu = default_use_gpu() if use_gpu is None else use_gpu
        self._predictors: OrderedDict[str, object] = OrderedDict()  # signature -> predictor, oldest first
        self._met_once: OrderedDict[str, None] = OrderedDict()  # structures met once, no predictor built yet
        self._own = InferenceRunner(threads, self.use_gpu)
        self.built = 0  # shared predictors created so far (for benchmarks and tests)

    def _build(self, net: nn.Layer, slots, values, sample_shape: tuple):
        wrapper = _WeightsAsInputs(net, slots)
        wrapper.eval()
        # channels dynamic too: Paddle 2.6 checks them against the (dynamic) first filter
        spec = [InputSpec([None, None, *sample_shape[1:]], "float32", name="x"),
                [InputSpec([1 if n == 1 else None for n in value.shape], "float32", name=f"w{i}")
                 for i, value in enumerate(values)]]
        # the files stay while the predictor is kept: its clones read them
        folder = tempfile.TemporaryDirectory(prefix="paddle_supernet_shared_")
        predictor = build_predictor(wrapper, spec, folder.name, self.threads, self.use_gpu)
        self.built += 1
        return predictor, folder

    def outputs(self, net: nn.Layer, batches) -> list[list[np.ndarray]]:
        """Every output of ``net`` (eval mode) for every batch (numpy NCHW float32). ``net`` is
        consumed: its BNs are folded and its parameters taken out."""
        batches = list(batches)
        net.eval()
        signature = structure_signature(net)
        if signature not in self._predictors and signature not in self._met_once:
            self._met_once[signature] = None
            while len(self._met_once) > self.remember:
                self._met_once.popitem(last=False)
            return self._own.outputs(net, batches)
        self._met_once.pop(signature, None)
        slots, values = fold_and_strip(net)
        built = self._predictors.pop(signature, None)  # (predictor, folder of its files)
        if built is None:
            built = self._build(net, slots, values, tuple(batches[0].shape[1:]))
        self._predictors[signature] = built
        while len(self._predictors) > self.keep:
            self._predictors.popitem(last=False)[1][1].cleanup()
        predictor = built[0].clone()  # oneDNN objects of its own: these weights, never an earlier arch's
        names = predictor.get_input_names()
        feeds = dict(zip([f"w{i}" for i in range(len(values))], values))
        if sorted(names) != sorted(["x", *feeds]):
            raise RuntimeError(f"the shared program's inputs {names} do not match the net's {len(values)} weights")
        for name, value in feeds.items():
            handle = predictor.get_input_handle(name)
            handle.reshape(list(value.shape))
            handle.copy_from_cpu(value)
        return run_batches(predictor, "x", batches)

    def logits(self, net: nn.Layer, batches) -> list[np.ndarray]:
        """Logits of ``net`` (eval mode, calibrated) for every batch (numpy NCHW float32); ``net`` is consumed."""
        return [outputs[0] for outputs in self.outputs(net, batches)]
