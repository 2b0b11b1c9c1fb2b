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


class InferenceRunner:
    """Runs plain networks through Paddle Inference; ``threads``: CPU math threads (0: Paddle's default)."""

    def __init__(self, threads: int = 0, use_gpu: bool | None = None):
        self.threads = threads
        self.use_gpu = paddle.device.is_compiled_with_cuda() and paddle.device.get_device().startswith("gpu") \
            if use_gpu is None else use_gpu

    def predictor(self, net: paddle.nn.Layer, sample_shape: tuple, folder: str):
        """A predictor of ``net`` (eval mode) for inputs ``[N, *sample_shape]``, saved under ``folder``."""
        import paddle.inference as inference
        from paddle.static import InputSpec

        net.eval()
        prefix = os.path.join(folder, "net")
        spec = [InputSpec([None, *sample_shape], "float32")]
        try:  # Paddle 3.x: a whole-graph trace (the only mode that honours input_spec)
            static = paddle.jit.to_static(net, input_spec=spec, full_graph=True)
        except TypeError:  # Paddle 2.6 traces the whole graph anyway
            static = paddle.jit.to_static(net, input_spec=spec)
        paddle.jit.save(static, prefix)
        program = prefix + ".pdmodel" if os.path.exists(prefix + ".pdmodel") else prefix + ".json"  # Paddle 2.6 / 3.x
        config = inference.Config(program, prefix + ".pdiparams")
        if self.use_gpu:
            config.enable_use_gpu(256, 0)
        else:
            config.disable_gpu()
            config.enable_mkldnn()
            if self.threads:
                config.set_cpu_math_library_num_threads(self.threads)
        config.disable_glog_info()
        return inference.create_predictor(config)

    def logits(self, net: paddle.nn.Layer, batches) -> list[np.ndarray]:
        """Logits of ``net`` for every batch of ``batches`` (numpy NCHW float32 arrays)."""
        batches = list(batches)
        with tempfile.TemporaryDirectory(prefix="paddle_supernet_infer_") as folder:
            predictor = self.predictor(net, tuple(batches[0].shape[1:]), folder)
            source = predictor.get_input_handle(predictor.get_input_names()[0])
            sink = predictor.get_output_handle(predictor.get_output_names()[0])
            out = []
            for images in batches:
                source.reshape(list(images.shape))
                source.copy_from_cpu(np.ascontiguousarray(images, dtype=np.float32))
                predictor.run()
                out.append(sink.copy_to_cpu())
            return out


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
        self.batch_mean = self.batch_var = None

    def forward(self, x):
        count = paddle.cast(paddle.numel(x), "float32") / x.shape[1]  # images x pixels (a dynamic batch)
        mean = x.sum(axis=[0, 2, 3]) / count
        centred = x - mean.reshape([1, -1, 1, 1])
        var = (centred * centred).sum(axis=[0, 2, 3]) / count
        self.batch_mean, self.batch_var = mean, var
        scale = (self.weight / paddle.sqrt(var + self.epsilon)).reshape([1, -1, 1, 1])
        return centred * scale + self.bias.reshape([1, -1, 1, 1])


class _CalibrationNet(paddle.nn.Layer):
    """``net`` with every BatchNorm2D normalising by batch statistics; outputs every BN's batch
    mean and variance (in the order of ``net.sublayers()``)."""

    def __init__(self, net: paddle.nn.Layer):
        super().__init__()
        self.net, self.bns = net, []
        for name, layer in list(net.named_sublayers()):
            if isinstance(layer, paddle.nn.BatchNorm2D):
                parent = net
                *path, last = name.split(".")
                for part in path:
                    parent = getattr(parent, part)
                replacement = _BatchStatsBN(layer)
                setattr(parent, last, replacement)
                self.bns.append(replacement)

    def forward(self, x):
        self.net(x)
        out = []
        for bn in self.bns:
            out.append(bn.batch_mean)
            out.append(bn.batch_var)
        return out


def calibrate_with_predictor(runner: InferenceRunner, make_net, calib_batches: list[np.ndarray]) -> paddle.nn.Layer:
    """A plain network from ``make_net()`` (eval mode) whose BN statistics are the exact averages
    over ``calib_batches`` (numpy NCHW), computed by a predictor: the mean of the batch means and of
    the biased batch variances, weighted by images, as :func:`~paddle_supernet.nn.batchnorm.calibrate_bn`."""
    calibration = _CalibrationNet(make_net())
    sums, images = None, 0
    with tempfile.TemporaryDirectory(prefix="paddle_supernet_calib_") as folder:
        predictor = runner.predictor(calibration, tuple(calib_batches[0].shape[1:]), folder)
        source = predictor.get_input_handle(predictor.get_input_names()[0])
        sinks = [predictor.get_output_handle(name) for name in predictor.get_output_names()]
        for batch in calib_batches:
            source.reshape(list(batch.shape))
            source.copy_from_cpu(np.ascontiguousarray(batch, dtype=np.float32))
            predictor.run()
            stats = [sink.copy_to_cpu().astype(np.float64) * len(batch) for sink in sinks]
            sums = stats if sums is None else [a + b for a, b in zip(sums, stats)]
            images += len(batch)
    net = make_net()
    net.eval()
    bns = [layer for layer in net.sublayers() if isinstance(layer, paddle.nn.BatchNorm2D)]
    for i, bn in enumerate(bns):
        bn._mean.set_value((sums[2 * i] / images).astype(np.float32))
        bn._variance.set_value((sums[2 * i + 1] / images).astype(np.float32))
    return net
