"""One Paddle Inference predictor per network structure, the weights fed as inputs.

The ``inference`` backend traces, saves and loads every arch's subnet (about a second
for ResNet48), which is most of its cost at small image sizes. Archs whose exported
networks differ only in channel counts share one program here: each BatchNorm is folded
into the convolution before it, every remaining parameter becomes an input of dynamic
shape, and the predictor built for the first arch of a structure serves the rest
(``eval.backend: shared_inference``), from the structure's second arch on. oneDNN fuses a
bias into its convolution only when the bias is a parameter, so the folded biases ride on a
constant channel instead (:class:`BiasChannel`), and each convolution runs fused with its
residual addition and activation, as in a program with parameters.

oneDNN keeps the reordered weights of an input shape it has seen, per predictor, so a
predictor fed new weights of an earlier shape would compute with the old ones. Each arch
therefore runs on a clone of its structure's predictor (``predictor.clone()``: the same
optimised program, some tens of milliseconds), whose oneDNN objects are its own
(``tests/test_shared_predictor.py`` checks archs of equal shapes in a row, with other
predictors running in between; ``bench/weights_as_inputs_probe.py`` shows the failure).

Every shared program is checked once, when built, against dygraph on random images: a
structure whose program cannot be traced, or computes otherwise (a weight's size read as a
Python number by code the tracer leaves alone), warns once and runs on predictors of its own.

Example:
    >>> runner = SharedPredictors(threads=1)                       # doctest: +SKIP
    >>> logits = runner.logits(plain_net, [images_nchw_float32])   # doctest: +SKIP
"""
from __future__ import annotations

import copy
import tempfile
import warnings
from collections import OrderedDict

import numpy as np
import paddle
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


def _layer_groups(slots: list[tuple[nn.Layer, str]]) -> list[tuple[nn.Layer, dict[str, int]]]:
    """The slots of :func:`fold_and_strip` grouped by layer: ``(layer, {name: index of its value})``."""
    groups: list[tuple[nn.Layer, dict[str, int]]] = []
    for i, (layer, name) in enumerate(slots):
        if groups and groups[-1][0] is layer:
            groups[-1][1][name] = i
        else:
            groups.append((layer, {name: i}))
    return groups


def _kind(layer: nn.Layer, names: dict) -> str | None:
    """How :class:`BiasChannel` extends ``layer``'s weights, or None when it cannot."""
    if isinstance(layer, nn.Conv2D) and layer._groups == 1 and layer._data_format == "NCHW" \
            and set(names) <= {"weight", "bias"}:
        return "conv"
    if isinstance(layer, nn.Linear) and set(names) <= {"weight", "bias"}:
        return "linear"
    if isinstance(layer, nn.PReLU) and len(names) == 1 and getattr(layer, "_data_format", "NCHW") == "NCHW":
        return "prelu"
    return None


class BiasChannel:
    """Carries every convolution's bias on a constant channel, so that the shared program has no
    bias additions and oneDNN fuses each convolution with its residual addition and activation.

    The images get a channel of ones. Every convolution gets one more input and one more output
    channel: the new output channel is the constant again (a single tap 1/v at the kernel centre
    on the input constant v), and the bias is the centre tap on the input constant (b/v). The centre
    tap of an odd kernel padded by half its size reads the pixel itself, never padding, so every
    output pixel gets exactly b. Linear layers get a zero row, channel-wise PReLU slopes one more.
    The constant at each layer's input (1 after a convolution, 2 after a residual addition of two)
    comes from a probe forward with zero weights; :meth:`plan` returns None (the structure keeps its
    bias additions) when a layer cannot be extended, a constant is not one value, or the extended
    network's outputs differ from the plain one's on random images.

    Example:
        >>> slots, values = fold_and_strip(net)                                  # doctest: +SKIP
        >>> plan = BiasChannel.plan(net, slots, values, (3, 16, 16))             # doctest: +SKIP
        >>> extended = plan.values(values)       # per arch of the structure     # doctest: +SKIP
    """

    def __init__(self, groups: list[tuple[str, dict[str, int]]], scales: list[float | None]):
        self._groups, self._scales = groups, scales

    @classmethod
    def plan(cls, net: nn.Layer, slots: list, values: list[np.ndarray], sample_shape: tuple) -> "BiasChannel | None":
        """The plan of ``net``'s structure (``net``, ``slots``, ``values``: from :func:`fold_and_strip`;
        ``sample_shape``: one image, CHW), or None when its biases cannot ride on a channel."""
        groups = _layer_groups(slots)
        kinds = [_kind(layer, names) for layer, names in groups]
        if None in kinds or "conv" not in kinds:
            return None
        # scales (1 / the input constant) start at 1 and are set by the probe as it reaches each layer
        plan = cls([(kind, names) for kind, (_, names) in zip(kinds, groups)],
                   [1.0 if kind in ("conv", "linear") else None for kind in kinds])
        extended_slots, cleared = plan.slots(slots)
        failures = []  # layers whose input constant is not one value

        def probe(g):
            def hook(layer, inputs):  # the constant reaching this layer; its weights for that constant
                last = inputs[0].numpy()[:, -1]
                v = float(last.flat[0])
                if abs(v) < 1e-6 or np.ptp(last) > 1e-6 * abs(v):
                    failures.append(layer)
                    v = 1.0
                plan._scales[g] = 1.0 / v
                if kinds[g] == "conv":
                    object.__setattr__(layer, "weight", paddle.to_tensor(plan._extend(g, values, zero=True)[0]))
            return hook

        hooks = [layer.register_forward_pre_hook(probe(g)) for g, (layer, _) in enumerate(groups)
                 if kinds[g] in ("conv", "linear")]
        try:
            zero_weights = [w for g in range(len(groups)) for w in plan._extend(g, values, zero=True)]
            extended = _WeightsAsInputs(net, extended_slots, ones_channel=True, cleared=cleared)
            _dygraph_outputs(extended, np.zeros((1, *sample_shape), np.float32), zero_weights)
        except (ValueError, RuntimeError):  # a layer got the constant where it cannot take it (e.g. flattened pixels)
            return None
        finally:
            for hook in hooks:
                hook.remove()
        if failures:
            return None
        images = np.random.default_rng(0).normal(size=(2, *sample_shape)).astype(np.float32)
        plain = _dygraph_outputs(_WeightsAsInputs(net, slots), images, values)
        ours = _dygraph_outputs(extended, images, plan.values(values))
        return plan if _outputs_agree(plain, ours) else None

    def slots(self, slots: list) -> tuple[list, list]:
        """The extended network's slots (one weight per convolution) and the attributes it clears (their biases)."""
        extended, cleared = [], []
        for kind, names in self._groups:
            layer = slots[next(iter(names.values()))][0]
            if kind == "conv":
                extended.append((layer, "weight"))
                cleared.append((layer, "bias"))
            else:
                extended.extend(slots[i] for i in names.values())
        return extended, cleared

    def values(self, values: list[np.ndarray]) -> list[np.ndarray]:
        """One arch's weights (from :func:`fold_and_strip`, same structure) extended for the constant channel."""
        return [w for g in range(len(self._groups)) for w in self._extend(g, values)]

    def _extend(self, g: int, values: list[np.ndarray], zero: bool = False) -> list[np.ndarray]:
        kind, names = self._groups[g]
        if kind == "conv":
            weight = values[names["weight"]]
            co, ci, kh, kw = weight.shape
            out = np.zeros((co + 1, ci + 1, kh, kw), np.float32)
            if not zero:
                out[:co, :ci] = weight
                if "bias" in names:
                    out[:co, ci, kh // 2, kw // 2] = values[names["bias"]].astype(np.float64) * self._scales[g]
            out[co, ci, kh // 2, kw // 2] = self._scales[g]
            return [out]
        if kind == "linear":
            weight = values[names["weight"]]
            out = np.zeros((weight.shape[0] + 1, weight.shape[1]), np.float32)
            out[:-1] = weight
            return [out] + ([values[names["bias"]]] if "bias" in names else [])
        (index,) = names.values()  # prelu
        slopes = values[index]
        return [slopes if slopes.size == 1 else np.append(slopes, np.float32(1.0)).astype(np.float32)]


def _outputs_agree(expected: list[np.ndarray], got: list[np.ndarray]) -> bool:
    """True when ``got`` are ``expected`` (the same shapes, values to float32 rounding of a changed op order)."""
    return len(got) == len(expected) and all(a.shape == b.shape and np.allclose(
        b, a, rtol=1e-4, atol=1e-5 * max(1.0, float(np.abs(a).max()))) for a, b in zip(expected, got))


def _dygraph_outputs(wrapper: nn.Layer, images: np.ndarray, values: list[np.ndarray]) -> list[np.ndarray]:
    """``wrapper``'s outputs (a list) for ``images`` and weights ``values``, in dygraph."""
    with paddle.no_grad():
        out = wrapper(paddle.to_tensor(images), [paddle.to_tensor(v) for v in values])
    return [o.numpy() for o in (out if isinstance(out, (list, tuple)) else [out])]


def _run_fed(predictor, values: list[np.ndarray], batches: list[np.ndarray]) -> list[list[np.ndarray]]:
    """Every output of a shared program's ``predictor`` for every batch, its weights fed ``values``."""
    names = predictor.get_input_names()
    feeds = dict(zip([f"w{i}" for i in range(len(values))], values))
    if sorted(names) != sorted(["x", *feeds]):
        raise RuntimeError(f"the shared program's inputs {names} do not match the net's {len(values)} weights")
    for name, value in feeds.items():
        handle = predictor.get_input_handle(name)
        handle.reshape(list(value.shape))
        handle.copy_from_cpu(value)
    return run_batches(predictor, "x", batches)


class _WeightsAsInputs(nn.Layer):
    """``net`` (stripped by :func:`fold_and_strip`) whose weights come with the images; with
    ``ones_channel`` the images get a constant channel appended (:class:`BiasChannel`) and the
    attributes in ``cleared`` are ``None`` (the convolutions' biases, carried by that channel)."""

    def __init__(self, net: nn.Layer, slots: list[tuple[nn.Layer, str]], ones_channel: bool = False,
                 cleared: tuple = ()):
        super().__init__()
        self.net, self._slots, self._ones_channel, self._cleared = net, slots, ones_channel, cleared

    def forward(self, x, weights):
        for layer, name in self._cleared:
            object.__setattr__(layer, name, None)
        for (layer, name), value in zip(self._slots, weights):
            object.__setattr__(layer, name, value)
        if self._ones_channel:
            x = paddle.concat([x, paddle.ones_like(x[:, :1])], axis=1)
        return self.net(x)


class _FedChannelPReLU(nn.Layer):
    """A channel-wise PReLU whose slopes are fed: ``F.prelu`` picks its mode from the slopes' size
    when traced, which a program fed slopes of any size cannot know; this computes the same values
    (``x`` where positive, else slope * ``x``) with ops of no size-dependent kind."""

    def __init__(self, prelu: nn.PReLU):
        super().__init__()
        object.__setattr__(self, "_prelu", prelu)  # not a sub-layer: its slopes are the fed slot

    def forward(self, x):
        slopes = self._prelu._weight.reshape([1, -1, 1, 1])
        return paddle.where(x > 0, x, x * slopes)


def _feed_channel_slopes(net: nn.Layer) -> None:
    """Put a :class:`_FedChannelPReLU` where ``net`` (NCHW) has a PReLU with one slope per channel."""
    for path, layer in list(net.named_sublayers()):
        if isinstance(layer, nn.PReLU) and layer._num_parameters > 1 and layer._data_format == "NCHW":
            replace_sublayer(net, path, _FedChannelPReLU(layer))


class SharedPredictors:
    """Predictors keyed by :func:`structure_signature`, the least recently used dropped beyond ``keep``.

    A structure's first arch runs on a predictor of its own (:class:`InferenceRunner`); the shared
    program is built at its second arch, so a list of distinct structures costs what the
    ``inference`` backend costs, and a sorted list pays one build per structure. With
    ``bias_channel`` (default) the shared program carries the convolutions' biases on a constant
    channel (:class:`BiasChannel`), which lets oneDNN fuse residual and activation into the
    convolutions as in a program with parameters; without it, or for a structure the plan refuses,
    the biases are added by separate operations (at 16x16 a forward 1.35-1.8x an own predictor's,
    against 1.13-1.17x with the channel; at 224x224 both about 1.15x, where ``inference`` is faster).
    """

    def __init__(self, threads: int = 0, use_gpu: bool | None = None, keep: int = 8, remember: int = 4096,
                 bias_channel: bool = True):
        if keep < 1:
            raise ValueError(f"keep must be at least 1, not {keep}")
        self.threads, self.keep, self.remember, self.bias_channel = threads, keep, remember, bias_channel
        self.use_gpu = default_use_gpu() if use_gpu is None else use_gpu
        # signature -> (predictor, folder of its files, bias channel plan), oldest first
        self._predictors: OrderedDict[str, tuple] = OrderedDict()
        self._met_once: OrderedDict[str, None] = OrderedDict()  # structures met once, no predictor built yet
        self._untraceable: set[str] = set()  # structures whose shared program failed to trace or to check
        self._own = InferenceRunner(threads, self.use_gpu)
        self.built = 0  # shared predictors created so far (for benchmarks and tests)
        self.planned = 0  # of which with the bias channel

    def _build(self, net: nn.Layer, slots, values, sample_shape: tuple) -> tuple:
        """The structure's shared predictor, its files' folder and its bias-channel plan; raises
        RuntimeError when the traced program does not compute what ``net`` computes in dygraph."""
        _feed_channel_slopes(net)
        original_slots, original_values = slots, values
        plan = BiasChannel.plan(net, slots, values, sample_shape) if self.bias_channel else None
        if plan is None:
            wrapper = _WeightsAsInputs(net, slots)
        else:
            extended_slots, cleared = plan.slots(slots)
            wrapper = _WeightsAsInputs(net, extended_slots, ones_channel=True, cleared=cleared)
            values = plan.values(values)
        wrapper.eval()
        # channels dynamic too: Paddle 2.6 checks them against the (dynamic) first filter
        spec = [InputSpec([None, None, *sample_shape[1:]], "float32", name="x"),
                [InputSpec([1 if n == 1 else None for n in value.shape], "float32", name=f"w{i}")
                 for i, value in enumerate(values)]]
        # the files stay while the predictor is kept: its clones read them
        folder = tempfile.TemporaryDirectory(prefix="paddle_supernet_shared_")
        predictor = build_predictor(wrapper, spec, folder.name, self.threads, self.use_gpu)
        # a trace can bake in what a weight's size decided (a Python branch, an op's mode): check the
        # program once against dygraph, with these weights, on random images (dygraph after the trace: a
        # forward can leave tensors on its layers, as the calibration net's statistics, that a trace would read)
        images = np.random.default_rng(0).normal(size=(2, *sample_shape)).astype(np.float32)
        expected = _dygraph_outputs(_WeightsAsInputs(net, original_slots), images, original_values)
        if not _outputs_agree(expected, _run_fed(predictor.clone(), values, [images])[0]):
            folder.cleanup()
            raise RuntimeError("the traced program's outputs differ from dygraph's")
        self.built += 1
        self.planned += plan is not None
        return predictor, folder, plan

    def outputs(self, net: nn.Layer, batches) -> list[list[np.ndarray]]:
        """Every output of ``net`` (eval mode) for every batch (numpy NCHW float32). ``net`` is
        consumed: its BNs are folded and its parameters taken out."""
        batches = list(batches)
        net.eval()
        signature = structure_signature(net)
        first = signature not in self._predictors and signature not in self._met_once
        if first:
            self._met_once[signature] = None
            while len(self._met_once) > self.remember:
                self._met_once.popitem(last=False)
        if first or signature in self._untraceable:
            return self._own.outputs(net, batches)
        self._met_once.pop(signature, None)
        built = self._predictors.pop(signature, None)  # (predictor, folder of its files, bias channel plan)
        spare = copy.deepcopy(net) if built is None else None  # fold_and_strip consumes net; a failed build needs it
        slots, values = fold_and_strip(net)
        if built is None:
            try:
                built = self._build(net, slots, values, tuple(batches[0].shape[1:]))
            except (ValueError, RuntimeError, TypeError) as error:  # e.g. an op whose kind depends on a weight's size
                self._untraceable.add(signature)
                warnings.warn(f"a network structure cannot share one program ({str(error).splitlines()[0][:200]}); "
                              "its archs run on predictors of their own")
                return self._own.outputs(spare, batches)
        self._predictors[signature] = built
        while len(self._predictors) > self.keep:
            self._predictors.popitem(last=False)[1][1].cleanup()
        shared, _, plan = built
        if plan is not None:
            values = plan.values(values)
        return _run_fed(shared.clone(), values, batches)  # a clone: oneDNN objects of its own, these weights

    def logits(self, net: nn.Layer, batches) -> list[np.ndarray]:
        """Logits of ``net`` (eval mode, calibrated) for every batch (numpy NCHW float32); ``net`` is consumed."""
        return [outputs[0] for outputs in self.outputs(net, batches)]
