#!/usr/bin/env python3
"""Probe: can one predictor serve many archs if the weights are inputs instead of parameters?

The fast path pays a trace, save and predictor creation per arch (about a second for
ResNet48). A predictor whose convolution weights are fed like images would be built once
per network structure and reused for every arch of that structure. This probe builds such
a predictor for a residual block (two 3x3 convolutions), feeds it weights of several
shapes in turn, including a shape it has seen before with new values, and prints the
largest difference from dygraph and the time per forward against a predictor with the
weights as parameters, in three set-ups: one predictor reused with oneDNN, a clone of it per
set of weights (what ``eval.backend: shared_inference`` does), and oneDNN off.

    OMP_NUM_THREADS=1 python bench/weights_as_inputs_probe.py

What it showed on Paddle 3.3.1 (CPU, 2026-12-03): with oneDNN the reused predictor is as
fast as a fresh one and right for every new shape, but wrong (differences of order 1) when
a call repeats an earlier call's shapes with other values: oneDNN keeps the reordered
weights of a shape it has seen, per predictor. A clone per set of weights is right at the
same speed. Without oneDNN it is right but no faster than dygraph. (Keeping one shape's
objects, ``set_mkldnn_cache_capacity(1)``, with a one-image run before new weights was
right alone, but wrong again once a predictor with the default cache ran in between.)
"""
import argparse
import tempfile
import time

import numpy as np
import paddle
import paddle.inference as inference
import paddle.nn.functional as F
from paddle.static import InputSpec


class BlockWithWeightInputs(paddle.nn.Layer):
    """A residual block whose weights come with the images."""

    def forward(self, x, w1, b1, w2, b2):
        y = F.relu(F.conv2d(x, w1, b1, padding=1))
        return F.relu(F.conv2d(y, w2, b2, padding=1) + x)


class BlockWithParameters(paddle.nn.Layer):
    """The same block with its weights as parameters (what the fast path exports per arch)."""

    def __init__(self, w1, b1, w2, b2):
        super().__init__()
        self.conv1 = paddle.nn.Conv2D(w1.shape[1], w1.shape[0], 3, padding=1)
        self.conv2 = paddle.nn.Conv2D(w2.shape[1], w2.shape[0], 3, padding=1)
        for layer, w, b in ((self.conv1, w1, b1), (self.conv2, w2, b2)):
            layer.weight.set_value(w)
            layer.bias.set_value(b)

    def forward(self, x):
        return F.relu(self.conv2(F.relu(self.conv1(x))) + x)


def make_predictor(layer, specs, folder, onednn):
    static = paddle.jit.to_static(layer, input_spec=specs, full_graph=True)
    paddle.jit.save(static, folder + "/net")
    config = inference.Config(folder + "/net.json", folder + "/net.pdiparams")
    config.disable_gpu()
    if onednn:
        config.enable_mkldnn()
    elif hasattr(config, "disable_mkldnn"):  # Paddle 3.x turns oneDNN on by default
        config.disable_mkldnn()
    config.set_cpu_math_library_num_threads(1)
    config.disable_glog_info()
    return inference.create_predictor(config)


def run(predictor, feeds: dict) -> np.ndarray:
    for name in predictor.get_input_names():
        handle = predictor.get_input_handle(name)
        handle.reshape(list(feeds[name].shape))
        handle.copy_from_cpu(feeds[name])
    predictor.run()
    return predictor.get_output_handle(predictor.get_output_names()[0]).copy_to_cpu()


def per_call(fn, repeats=5) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=1000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    specs = [InputSpec([None, None, None, None], "float32", name="x"),
             InputSpec([None, None, 3, 3], "float32", name="w1"), InputSpec([None], "float32", name="b1"),
             InputSpec([None, None, 3, 3], "float32", name="w2"), InputSpec([None], "float32", name="b2")]
    setups = (("oneDNN, one predictor reused", True, False), ("oneDNN, a clone per set of weights", True, True),
              ("oneDNN off, one predictor reused", False, False))
    for title, onednn, clone in setups:
        files = tempfile.TemporaryDirectory()  # kept while the predictor lives: clones read them
        start = time.perf_counter()
        built = make_predictor(BlockWithWeightInputs(), specs, files.name, onednn)
        print(f"\n== {title}: shared predictor built once in {time.perf_counter() - start:.2f} s")
        for channels, middle in ((32, 24), (16, 8), (32, 48), (16, 8)):  # the last repeats the second's shapes
            feeds = {"x": rng.standard_normal((args.images, channels, 8, 8)).astype("float32"),
                     "w1": (0.1 * rng.standard_normal((middle, channels, 3, 3))).astype("float32"),
                     "b1": rng.standard_normal(middle).astype("float32"),
                     "w2": (0.1 * rng.standard_normal((channels, middle, 3, 3))).astype("float32"),
                     "b2": rng.standard_normal(channels).astype("float32")}
            block = BlockWithParameters(*(paddle.to_tensor(feeds[k]) for k in ("w1", "b1", "w2", "b2")))
            images = paddle.to_tensor(feeds["x"])
            expected = block(images).numpy()
            start = time.perf_counter()
            shared = built.clone() if clone else built
            cloning = time.perf_counter() - start
            error = float(np.abs(run(shared, feeds) - expected).max())
            with tempfile.TemporaryDirectory() as folder:
                start = time.perf_counter()
                own = make_predictor(block, [InputSpec([None, channels, 8, 8], "float32")], folder, onednn)
                setup = time.perf_counter() - start
                own_error = float(np.abs(run(own, {own.get_input_names()[0]: feeds["x"]}) - expected).max())
                own_ms = 1000 * per_call(lambda: run(own, {own.get_input_names()[0]: feeds["x"]}))
            shared_ms = 1000 * per_call(lambda: run(shared, feeds))
            with paddle.no_grad():
                dygraph_ms = 1000 * per_call(lambda: block(images))
            print(f"{channels:3d}->{middle:3d}->{channels:3d}: |shared - dygraph| {error:.1e}, |own - dygraph| "
                  f"{own_error:.1e}; ms per forward: shared {shared_ms:.1f} (clone {1000 * cloning:.0f} ms), own "
                  f"{own_ms:.1f} (setup {setup:.2f} s), dygraph {dygraph_ms:.1f}", flush=True)
        files.cleanup()


if __name__ == "__main__":
    main()
