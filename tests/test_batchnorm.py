import numpy as np
import paddle

from paddle_supernet.nn.batchnorm import SuperBN2D, calibrate_bn
from paddle_supernet.nn.resnet20 import ResNet20Supernet
from paddle_supernet.spaces import get_space


def _channel_moments(y):
    return y.mean(axis=(0, 2, 3)), y.var(axis=(0, 2, 3))


def test_first_call_in_eval_mode_does_not_latch():
    """Regression: PaddleSlim's SuperBatchNorm2D keeps the mode of its first call."""
    paddle.seed(0)
    bn = SuperBN2D(8)
    x = paddle.randn([16, 6, 4, 4]) * 3 + 2
    bn.eval()
    bn(x)  # first call in eval mode
    bn.train()
    y = bn(x).numpy()
    mean, var = _channel_moments(y)
    np.testing.assert_allclose(mean, 0, atol=1e-5)  # normalised with batch statistics
    np.testing.assert_allclose(var, 1, atol=1e-3)
    xn = x.numpy()
    np.testing.assert_allclose(bn._mean.numpy()[:6], 0.1 * xn.mean(axis=(0, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(bn._mean.numpy()[6:], 0)  # inactive channels untouched


def test_first_call_in_train_mode_does_not_latch():
    paddle.seed(0)
    bn = SuperBN2D(8)
    x = paddle.randn([16, 8, 4, 4]) * 3 + 2
    bn.train()
    bn(x)
    before = bn._mean.numpy().copy(), bn._variance.numpy().copy()
    bn.eval()
    y = bn(x * 5).numpy()
    np.testing.assert_array_equal(bn._mean.numpy(), before[0])  # eval never writes statistics
    expected = (x.numpy() * 5 - before[0][None, :, None, None]) / np.sqrt(before[1][None, :, None, None] + 1e-5)
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)


def _numpy_conv3x3(x, w):
    """Stride-1, padding-1 convolution, NCHW, written with numpy only."""
    n, c, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((n, w.shape[0], h, wd))
    for dy in range(3):
        for dx in range(3):
            out += np.einsum("nchw,oc->nohw", xp[:, :, dy:dy + h, dx:dx + wd], w[:, :, dy, dx])
    return out


def test_calibration_equals_independent_statistics():
    paddle.seed(1)
    space = get_space("cvpr21_resnet20")
    net = ResNet20Supernet(num_classes=5)
    code = space.sample(3)
    net.set_active(code)
    rng = np.random.default_rng(0)
    batches = [paddle.to_tensor(rng.normal(size=(n, 3, 8, 8)).astype("float32")) for n in (6, 6, 4)]
    bn_layers = [layer for layer in net.sublayers() if isinstance(layer, SuperBN2D)]
    before = {id(l): (l._mean.numpy().copy(), l._variance.numpy().copy()) for l in bn_layers}
    seen = {id(l): [] for l in bn_layers}
    hooks = [l.register_forward_pre_hook(lambda layer, inp: seen[id(layer)].append(inp[0].numpy().astype(np.float64)))
             for l in bn_layers]
    net.train()
    calibrate_bn(net, batches)
    for h in hooks:
        h.remove()
    assert net.training, "calibration must restore the train/eval mode"
    used = 0
    for layer in bn_layers:
        inputs = seen[id(layer)]
        if not inputs:  # unused by this arch (an identity shortcut): untouched
            np.testing.assert_array_equal(layer._mean.numpy(), before[id(layer)][0])
            continue
        used += 1
        c = inputs[0].shape[1]
        n = np.array([len(x) for x in inputs], np.float64)
        mean = sum(x.mean(axis=(0, 2, 3)) * k for x, k in zip(inputs, n)) / n.sum()
        var = sum(x.var(axis=(0, 2, 3)) * k for x, k in zip(inputs, n)) / n.sum()
        np.testing.assert_allclose(layer._mean.numpy()[:c], mean, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(layer._variance.numpy()[:c], var, rtol=1e-4, atol=1e-5)
        np.testing.assert_array_equal(layer._mean.numpy()[c:], before[id(layer)][0][c:])  # inactive slice kept
    assert used >= 19
    # the stem BN's input recomputed from the images with numpy alone
    c0 = int(code.split("-")[0])
    w = net.stem_conv.weight.numpy()[:c0, :3].astype(np.float64)
    stem_in = [_numpy_conv3x3(b.numpy().astype(np.float64), w) for b in batches]
    mean = np.concatenate(stem_in).mean(axis=(0, 2, 3))
    var = sum(x.var(axis=(0, 2, 3)) * len(x) for x in stem_in) / 16
    np.testing.assert_allclose(net.stem_bn._mean.numpy()[:c0], mean, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(net.stem_bn._variance.numpy()[:c0], var, rtol=1e-4, atol=1e-5)


def test_calibration_is_independent_of_previous_statistics():
    paddle.seed(2)
    space = get_space("cvpr21_resnet20")
    net = ResNet20Supernet(num_classes=3)
    code = space.sample(4)
    batches = [paddle.randn([8, 3, 8, 8]), paddle.randn([8, 3, 8, 8])]
    probe = paddle.randn([5, 3, 8, 8])
    net.set_active(code)
    calibrate_bn(net, batches)
    net.eval()
    first = net(probe).numpy()
    net.set_active(space.largest())
    net.train()
    net(paddle.randn([8, 3, 8, 8]) * 4 + 1)  # disturb every statistic
    net.set_active(code)
    calibrate_bn(net, batches)
    assert net.training
    net.eval()
    np.testing.assert_allclose(net(probe).numpy(), first, rtol=1e-5, atol=1e-6)
