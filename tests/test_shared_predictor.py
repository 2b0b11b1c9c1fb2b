"""The shared-predictor fast path: one program per structure, weights fed, BN folded."""
import numpy as np
import paddle
import pytest

from paddle_supernet.inference_path import InferenceRunner
from paddle_supernet.nn.resnet20 import StandaloneResNet20
from paddle_supernet.nn.resnet48 import StandaloneResNet48
from paddle_supernet.shared_predictor import (BiasChannel, SharedPredictors, _FedChannelPReLU, fold_and_strip,
                                               structure_signature)
from paddle_supernet.spaces import get_space

R48 = get_space("cvpr22_resnet48")


def _net48(code: str, seed: int) -> StandaloneResNet48:
    """A small ResNet48 of ``code`` with seeded weights and random BN statistics (eval mode)."""
    paddle.seed(seed)
    net = StandaloneResNet48(code, num_classes=5, small_input=True, width_scale=0.125)
    rng = np.random.default_rng(seed)
    for layer in net.sublayers():
        if isinstance(layer, paddle.nn.BatchNorm2D):
            n = int(layer._mean.shape[0])
            layer._mean.set_value(rng.normal(0, 0.5, n).astype("float32"))
            layer._variance.set_value(rng.uniform(0.5, 2.0, n).astype("float32"))
            layer.weight.set_value(rng.uniform(0.5, 1.5, n).astype("float32"))
            layer.bias.set_value(rng.normal(0, 0.2, n).astype("float32"))
    net.eval()
    return net


def _dygraph(net, batches):
    with paddle.no_grad():
        return [net(paddle.to_tensor(b)).numpy() for b in batches]


def _like_dygraph(runner, make, seeds, batches, atol=1e-4):
    """For each seed, ``make(seed)`` (built after ``paddle.seed(seed)``) scores through ``runner`` as in dygraph."""
    for seed in seeds:
        paddle.seed(seed)
        net = make(seed)
        net.eval()
        expected = _dygraph(net, batches)
        np.testing.assert_allclose(runner.logits(net, batches)[0], expected[0], rtol=1e-4, atol=atol)


def _projections(code: str):
    arch = R48.decode(code)
    return arch.depths, tuple(b.stride != 1 or b.cin != b.cout for b in arch.blocks(0.125))


def test_archs_share_a_signature_exactly_when_their_depths_and_projections_agree():
    codes = R48.sample_unique(40, seed=3, distribution="tied")
    same_depths = [c for c in codes if R48.decode(c).depths == R48.decode(codes[0]).depths]
    codes = codes[:12] + same_depths[1:3]
    for a in codes:
        for b in codes:
            expected = _projections(a) == _projections(b)
            got = structure_signature(StandaloneResNet48(a, 5, small_input=True, width_scale=0.125)) == \
                structure_signature(StandaloneResNet48(b, 5, small_input=True, width_scale=0.125))
            assert got == expected, (a, b)


@pytest.mark.parametrize("sizes", [(5, 5), (5, 1), (1,)])
def test_a_predictor_fed_new_weights_of_the_same_shapes_uses_them(sizes):
    """oneDNN keeps reordered weights per input shape and predictor; each arch's clone reads its own,
    also with a per-arch predictor (oneDNN's default cache) running in between."""
    code = R48.largest()
    rng = np.random.default_rng(0)
    batches = [rng.normal(size=(n, 3, 16, 16)).astype("float32") for n in sizes]
    runner, per_arch = SharedPredictors(threads=1), InferenceRunner(threads=1)
    other = R48.smallest()
    for net_code, seed in ((code, 1), (code, 2), (code, 1), (other, 3), (code, 4), (code, 5)):
        net = _net48(net_code, seed)
        expected = _dygraph(net, batches)
        got = runner.logits(net, batches)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-4)
        if seed >= 4:
            per_arch.logits(_net48(net_code, seed + 10), batches)
    assert runner.built == 1  # one shared predictor for the structure met 5 times, none for the one met once


def test_the_2021_network_with_prelu_shares_one_program_across_widths():
    space = get_space("cvpr21_resnet20")
    rng = np.random.default_rng(1)
    batches = [rng.normal(size=(4, 3, 8, 8)).astype("float32")]
    runner = SharedPredictors(threads=1)
    for seed, code in enumerate([space.sample(1), space.sample(2), space.largest()]):
        paddle.seed(seed)
        net = StandaloneResNet20(code, num_classes=4, shortcut="projection", activation="prelu")
        net.eval()
        expected = _dygraph(net, batches)
        np.testing.assert_allclose(runner.logits(net, batches)[0], expected[0], rtol=1e-4, atol=1e-4)
    assert runner.built == 1


def test_a_structure_is_shared_from_its_second_arch_and_dropped_beyond_keep():
    runner = SharedPredictors(threads=1, keep=1)
    batches = [np.zeros((2, 3, 16, 16), "float32")]
    built = []
    for code in (R48.largest(), R48.largest(), R48.smallest(), R48.smallest(), R48.largest(), R48.largest()):
        runner.logits(_net48(code, 0), batches)
        built.append(runner.built)
    assert built == [0, 1, 1, 2, 2, 3]  # the largest's predictor was dropped for the smallest's


@pytest.mark.parametrize("keep", [0, -1])
def test_keep_must_be_positive(keep):
    with pytest.raises(ValueError, match="keep"):
        SharedPredictors(keep=keep)


def test_every_bn_of_both_networks_is_folded_into_its_convolution():
    nets = [_net48(R48.largest(), 0),
            StandaloneResNet20(get_space("cvpr21_resnet20").largest(), num_classes=4, shortcut="official")]
    for net in nets:
        convs = sum(isinstance(layer, paddle.nn.Conv2D) for layer in net.sublayers())
        slots, values = fold_and_strip(net)
        assert not any(isinstance(layer, paddle.nn.BatchNorm2D) for layer in net.sublayers())
        assert sum(name == "bias" and isinstance(layer, paddle.nn.Conv2D) for layer, name in slots) == convs
        assert not list(net.parameters()) and len(values) == len(slots)


def test_the_bias_channel_serves_both_networks_and_matches_dygraph():
    """Folded biases ride on a constant channel (constants 1 and 2 around residual additions): the
    plan is made for ResNet48 and the PReLU ResNet20, and the logits are dygraph's."""
    rng = np.random.default_rng(2)
    batches = [rng.normal(size=(3, 3, 16, 16)).astype("float32")]
    space20 = get_space("cvpr21_resnet20")
    nets = [lambda s: _net48(R48.largest(), s),
            lambda s: StandaloneResNet20(space20.largest(), num_classes=4, shortcut="official", activation="prelu")]
    for make in nets:
        runner = SharedPredictors(threads=1)
        _like_dygraph(runner, make, (0, 1, 2), batches)
        assert (runner.built, runner.planned) == (1, 1)


class _Gain(paddle.nn.Layer):
    """A layer with a parameter that :class:`BiasChannel` does not know how to extend."""

    def __init__(self):
        super().__init__()
        self.gain = self.create_parameter([1], default_initializer=paddle.nn.initializer.Constant(1.5))

    def forward(self, x):
        return x * self.gain


class _Refused(paddle.nn.Layer):
    """Two ways a structure's biases cannot ride on a constant channel: a 1x1 convolution padded by 1
    (its border pixels read padding, where the constant is 0), or a layer the plan cannot extend."""

    def __init__(self, case: str):
        super().__init__()
        self.conv = paddle.nn.Conv2D(4, 4, 1, padding=1 if case == "padding" else 0)
        self.bn = paddle.nn.BatchNorm2D(4)
        side = 6 if case == "padding" else 4
        self.act = paddle.nn.ReLU() if case == "padding" else _Gain()
        self.fc = paddle.nn.Linear(4 * side * side, 3)

    def forward(self, x):
        return self.fc(paddle.flatten(self.act(self.bn(self.conv(x))), 1))


@pytest.mark.parametrize("case", ["padding", "layer"])
def test_a_structure_whose_biases_cannot_ride_on_a_channel_keeps_its_additions(case):
    """No plan, and still dygraph's logits."""
    rng = np.random.default_rng(3)
    batches = [rng.normal(size=(2, 4, 4, 4)).astype("float32")]
    runner = SharedPredictors(threads=1)

    def make(seed):
        net = _Refused(case)
        net.bn._mean.set_value(rng.normal(size=4).astype("float32"))
        return net

    _like_dygraph(runner, make, (0, 1), batches, atol=1e-5)
    assert (runner.built, runner.planned) == (1, 0)


@pytest.mark.parametrize("constant", [1.0, 2.0])
def test_the_bias_channel_extends_a_convolution_exactly(constant):
    """Independent check: the extended weights on [x, constant] give conv(x) + b, and 1 on the new channel."""
    rng = np.random.default_rng(4)
    weight = rng.normal(size=(3, 2, 3, 3)).astype("float32")
    bias = rng.normal(size=3).astype("float32")
    plan = BiasChannel([("conv", {"weight": 0, "bias": 1})], [1.0 / constant])
    (extended,) = plan.values([weight, bias])
    x = rng.normal(size=(1, 2, 5, 5)).astype("float32")
    with_constant = np.concatenate([x, np.full((1, 1, 5, 5), constant, "float32")], axis=1)
    conv = paddle.nn.functional.conv2d
    got = conv(paddle.to_tensor(with_constant), paddle.to_tensor(extended), stride=2, padding=1).numpy()
    want = conv(paddle.to_tensor(x), paddle.to_tensor(weight), paddle.to_tensor(bias), stride=2, padding=1).numpy()
    np.testing.assert_allclose(got[:, :3], want, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got[:, 3], np.ones((1, 3, 3), "float32"))


class _ChannelSlopes(paddle.nn.Layer):
    """A convolution and a PReLU with one slope per channel (``F.prelu`` picks its mode from the
    slopes' size when traced; the shared program feeds them through ops of no size-dependent kind)."""

    def __init__(self, width: int):
        super().__init__()
        self.conv = paddle.nn.Conv2D(3, width, 3, padding=1)
        self.act = paddle.nn.PReLU(width, init=0.1)
        self.fc = paddle.nn.Linear(width, 2)

    def forward(self, x):
        return self.fc(paddle.flatten(paddle.nn.functional.adaptive_avg_pool2d(self.act(self.conv(x)), 1), 1))


@paddle.jit.not_to_static
def _doubled_when_wide(y, weight):
    """``y`` doubled when ``weight`` has more than four rows: a size read as Python (not converted
    when traced), as library code such as ``F.prelu`` reads it, so a trace bakes in one branch."""
    return y * 2.0 if weight.shape[0] > 4 else y


class _SizeBranch(_ChannelSlopes):
    """A forward whose branch depends on a weight's size as a traced program cannot know it:
    right in the program for some widths and wrong for others."""

    def forward(self, x):
        y = _doubled_when_wide(self.act(self.conv(x)), self.conv.weight)
        return self.fc(paddle.flatten(paddle.nn.functional.adaptive_avg_pool2d(y, 1), 1))


def test_channel_wise_prelu_slopes_share_one_program_across_widths():
    rng = np.random.default_rng(5)
    batches = [rng.normal(size=(2, 3, 6, 6)).astype("float32")]
    runner = SharedPredictors(threads=1)
    _like_dygraph(runner, _ChannelSlopes, (4, 6, 5, 6), batches, atol=1e-5)  # the seed is the width
    assert runner.built == 1
    negative = paddle.to_tensor([[[[-2.0]], [[3.0]]]])  # one pixel, two channels: slope x and x itself
    prelu = paddle.nn.PReLU(2, init=0.5)
    np.testing.assert_array_equal(_FedChannelPReLU(prelu)(negative).numpy(), [[[[-1.0]], [[3.0]]]])


def test_a_structure_whose_traced_program_differs_from_dygraph_runs_on_predictors_of_its_own():
    rng = np.random.default_rng(5)
    batches = [rng.normal(size=(2, 3, 6, 6)).astype("float32")]
    runner = SharedPredictors(threads=1)
    with pytest.warns(UserWarning, match="cannot share one program") as caught:
        _like_dygraph(runner, _SizeBranch, (4, 6, 5, 8), batches, atol=1e-5)  # the seed is the width
    assert runner.built == 0
    assert sum("cannot share one program" in str(w.message) for w in caught) == 1  # tried once per structure
