"""The fast validation path: the calibrated subnet run through Paddle Inference.

BN calibration needs batch statistics, so it stays in dygraph. Then the
calibrated subnet is exported as a plain network, traced with
``paddle.jit.to_static``, saved to a temporary directory and run by a Paddle
Inference predictor (oneDNN on CPU; GPU / TensorRT where the installed Paddle
has them) over the validation batches. With ``eval.calib_backend: inference`` the
calibration runs through a predictor too: the subnet exported with every BN
normalising by batch statistics and returning them, their image-weighted averages
set as the statistics (:func:`calibrate_with_predictor`). Per arch this costs the trace, save and
predictor setup (about a second on our CPUs), so it pays off when the
validation forward is larger than that (see ``bench/eval_throughput.py``).

Example:
    >>> runner = InferenceRunner(threads=1)                         # doctest: +SKIP
    >>> logits = runner.logits(plain_net, [images_nchw_float32])    # doctest: +SKIP
"""
from __future__ import annotations

import os
import tempfile

import numpy as np
import paddle
import paddle.nn.functional as F
from paddle.static import InputSpec


def build_predictor(layer: paddle.nn.Layer, input_spec: list, folder: str, threads: int = 0, use_gpu: bool = False):
    """Trace ``layer`` for ``input_spec``, save it under ``folder`` and load it into a predictor
    (oneDNN on CPU with ``threads`` math threads, 0: Paddle's default)."""
    prefix = os.path.join(folder, "net")
    save_inference_model(layer, input_spec, prefix)
    return load_predictor(prefix, threads, use_gpu)


def save_inference_model(layer: paddle.nn.Layer, input_spec: list, prefix: str) -> None:
    """``paddle.jit.save`` of ``layer`` traced for ``input_spec``: ``prefix.json`` (Paddle 3) or ``prefix.pdmodel``
    (2.6), and ``prefix.pdiparams``."""
    try:  # Paddle 3.x: a whole-graph trace (the only mode that honours input_spec)
        static = paddle.jit.to_static(layer, input_spec=input_spec, full_graph=True)
    except TypeError:  # Paddle 2.6 traces the whole graph anyway
        static = paddle.jit.to_static(layer, input_spec=input_spec)
    paddle.jit.save(static, prefix)


def load_predictor(prefix: str, threads: int = 0, use_gpu: bool = False):
    """A Paddle Inference predictor of a model saved under ``prefix`` (oneDNN on CPU)."""
    import paddle.inference as inference

    program = prefix + ".pdmodel" if os.path.exists(prefix + ".pdmodel") else prefix + ".json"  # Paddle 2.6 / 3.x
    params = prefix + ".pdiparams"
    if os.path.exists(params) and os.path.getsize(params) > 0:
        config = inference.Config(program, params)
    else:  # no parameters (weights fed as inputs): Paddle 2.6 refuses to load an empty file
        config = inference.Config()
        config.set_prog_file(program)
    if use_gpu:
        config.enable_use_gpu(256, 0)
    else:
        config.disable_gpu()
        config.enable_mkldnn()
        if threads:
            config.set_cpu_math_library_num_threads(threads)
    config.disable_glog_info()
    return inference.create_predictor(config)


def run_batches(predictor, input_name: str, batches: list[np.ndarray]) -> list[list[np.ndarray]]:
    """Run ``predictor`` on every batch (fed to ``input_name``; other inputs as already set);
    every output of every batch, as numpy arrays."""
    source = predictor.get_input_handle(input_name)
    sinks = [predictor.get_output_handle(name) for name in predictor.get_output_names()]
    out = []
    for images in batches:
        source.reshape(list(images.shape))
        source.copy_from_cpu(np.ascontiguousarray(images, dtype=np.float32))
        predictor.run()
        out.append([sink.copy_to_cpu() for sink in sinks])
    return out


def replace_sublayer(root: paddle.nn.Layer, path: str, new: paddle.nn.Layer) -> paddle.nn.Layer:
    """Put ``new`` where ``root``'s sub-layer ``path`` (dotted, as ``named_sublayers`` names it) was; returns ``new``."""
    *parents, last = path.split(".")
    parent = root
    for part in parents:
        parent = getattr(parent, part)
    setattr(parent, last, new)
    return new


def default_use_gpu() -> bool:
    """True when the installed Paddle has CUDA and the current device is a GPU."""
    return paddle.device.is_compiled_with_cuda() and paddle.device.get_device().startswith("gpu")


class InferenceRunner:
    """Runs plain networks through Paddle Inference; ``threads``: CPU math threads (0: Paddle's default)."""

    def __init__(self, threads: int = 0, use_gpu: bool | None = None):
        self.threads = threads
        self.use_gpu = default_use_gpu() if use_gpu is None else use_gpu

    def predictor(self, net: paddle.nn.Layer, sample_shape: tuple, folder: str):
        """A predictor of ``net`` (eval mode) for inputs ``[N, *sample_shape]``, saved under ``folder``."""
        net.eval()
        return build_predictor(net, [InputSpec([None, *sample_shape], "float32")], folder, self.threads, self.use_gpu)

    def outputs(self, net: paddle.nn.Layer, batches) -> list[list[np.ndarray]]:
        """Every output of ``net`` for every batch of ``batches`` (numpy NCHW float32 arrays)."""
        batches = list(batches)
        with tempfile.TemporaryDirectory(prefix="paddle_supernet_infer_") as folder:
            predictor = self.predictor(net, tuple(batches[0].shape[1:]), folder)
            return run_batches(predictor, predictor.get_input_names()[0], batches)

    def logits(self, net: paddle.nn.Layer, batches) -> list[np.ndarray]:
        """Logits of ``net`` for every batch of ``batches`` (numpy NCHW float32 arrays)."""
        return [outputs[0] for outputs in self.outputs(net, batches)]


def accuracy_and_loss_from_logits(logits: list[np.ndarray], labels: list[np.ndarray]) -> tuple[float, float]:
    """Top-1 accuracy and mean cross-entropy (float64 log-softmax) over batches."""
    correct, loss_sum, count = 0, 0.0, 0
    for z, y in zip(logits, labels):
        z = z.astype(np.float64)
        shifted = z - z.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        y = np.asarray(y).reshape(-1)
        correct += int((z.argmax(axis=1) == y).sum())
        loss_sum += float(-log_probs[np.arange(len(y)), y].sum())
        count += len(y)
    return correct / count, loss_sum / count


class _BatchStatsBN(paddle.nn.Layer):
    """A BN layer that normalises with its input's batch statistics and keeps them (calibration)."""

    def __init__(self, bn: paddle.nn.Layer):
        super().__init__()
        self.weight, self.bias, self.epsilon = bn.weight, bn.bias, bn._epsilon
        # a tuple, not tensor attributes: a Layer registers a tensor attribute as a buffer, which a
        # later trace would read (and save) instead of the statistics it computes
        self.batch_stats = ()

    def forward(self, x):
        # per-image means by average pooling, then over the batch (batch and channels may both be
        # dynamic; oneDNN pools in its own layout, where a mean over axes 0, 2, 3 is slow and, with
        # dynamic dimensions, logs on every run); the variance from the centred input, as in dygraph
        images = paddle.cast(paddle.shape(x)[0], "float32")
        mean = F.adaptive_avg_pool2d(x, 1).sum(axis=[0, 2, 3]) / images
        centred = x - mean.reshape([1, -1, 1, 1])
        var = F.adaptive_avg_pool2d(centred * centred, 1).sum(axis=[0, 2, 3]) / images
        self.batch_stats = (mean, var)
        # Paddle's BN op normalises in one pass (a copy of the mean: the op may write its statistics)
        return F.batch_norm(x, paddle.assign(mean), var, self.weight, self.bias, training=False,
                            epsilon=self.epsilon)


class _CalibrationNet(paddle.nn.Layer):
    """``net`` with every BatchNorm2D normalising by batch statistics; outputs the logits, then every
    BN's batch mean and variance (in the order of ``net.sublayers()``)."""

    def __init__(self, net: paddle.nn.Layer):
        super().__init__()
        self.net, self.bns = net, []
        for name, layer in list(net.named_sublayers()):
            if isinstance(layer, paddle.nn.BatchNorm2D):
                self.bns.append(replace_sublayer(net, name, _BatchStatsBN(layer)))

    def forward(self, x):
        out = [self.net(x)]  # the logits too: every weight takes part (a program fed its weights needs that)
        for bn in self.bns:
            out.extend(bn.batch_stats)
        return out


def calibrate_with_predictor(runner, make_net, calib_batches: list[np.ndarray]) -> paddle.nn.Layer:
    """A plain network from ``make_net()`` (eval mode) whose BN statistics are the exact averages
    over ``calib_batches`` (numpy NCHW), computed by ``runner`` (an :class:`InferenceRunner` or a
    :class:`~paddle_supernet.shared_predictor.SharedPredictors`): the mean of the batch means and of
    the biased batch variances, weighted by images, as :func:`~paddle_supernet.nn.batchnorm.calibrate_bn`."""
    sums, images = None, 0
    for batch, outputs in zip(calib_batches, runner.outputs(_CalibrationNet(make_net()), calib_batches)):
        stats = [value.astype(np.float64) * len(batch) for value in outputs[1:]]
        sums = stats if sums is None else [a + b for a, b in zip(sums, stats)]
        images += len(batch)
    net = make_net()
    net.eval()
    bns = [layer for layer in net.sublayers() if isinstance(layer, paddle.nn.BatchNorm2D)]
    for i, bn in enumerate(bns):
        bn._mean.set_value((sums[2 * i] / images).astype(np.float32))
        bn._variance.set_value((sums[2 * i + 1] / images).astype(np.float32))
    return net
