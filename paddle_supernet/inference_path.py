"""The fast validation path: the calibrated subnet run through Paddle Inference.

BN calibration needs batch statistics, so it stays in dygraph. Then the
calibrated subnet is exported as a plain network, traced with
``paddle.jit.to_static``, saved to a temporary directory and run by a Paddle
Inference predictor (oneDNN on CPU; GPU / TensorRT where the installed Paddle
has them) over the validation batches. Per arch this costs the trace, save and
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
