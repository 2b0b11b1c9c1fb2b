import numpy as np
import paddle
import pytest

from paddle_supernet.errors import InputError
from paddle_supernet.nn.resnet20 import ResNet20Supernet, StandaloneResNet20
from paddle_supernet.spaces import get_space

SPACE = get_space("cvpr21_resnet20")
CODES = [SPACE.largest(), SPACE.smallest(), SPACE.sample(11), SPACE.sample(12), "16-16-16-16-16-16-16-32-32-32-32-32-32-64-64-64-64-64-64-4"]


def _trainable_count(net):
    return sum(int(np.prod(p.shape)) for p in net.parameters() if not p.stop_gradient)


@pytest.mark.parametrize("options", [
    {"shortcut": "projection"},
    {"shortcut": "official"},
    {"shortcut": "official", "width_map": {4: 5, 8: 9}, "activation": "prelu"},
])
def test_subnet_output_equals_exported_network(options):
    paddle.seed(0)
    net = ResNet20Supernet(num_classes=7, **options)
    x = paddle.randn([4, 3, 8, 8])
    net.train()
    net(x * 2 + 1)  # give the running statistics non-trivial values
    for code in CODES:
        net.set_active(code)
        for mode in ("train", "eval"):
            getattr(net, mode)()
            plain = net.export(code)
            getattr(plain, mode)()
            assert isinstance(plain, StandaloneResNet20)
            np.testing.assert_allclose(net(x).numpy(), plain(x).numpy(), rtol=1e-5, atol=1e-5)
        counted = get_space("cvpr21_resnet20", num_classes=7).params(
            code, shortcut=options["shortcut"], width_map=options.get("width_map"), prelu=options.get("activation") == "prelu")
        assert _trainable_count(plain) == counted


def test_standalone_network_follows_the_official_rule():
    code = "16-16-16-16-16-16-16-32-32-32-32-32-32-64-64-64-64-64-64-4"
    net = StandaloneResNet20(code, num_classes=10)
    assert [b.shortcut_conv is not None for b in net.blocks] == [True, False, False] * 3
    assert _trainable_count(net) == get_space("cvpr21_resnet20", num_classes=10).params(code)


def test_backward_changes_only_active_slices():
    paddle.seed(0)
    net = ResNet20Supernet(num_classes=5, shortcut="official")
    code = SPACE.sample(21)
    net.set_active(code)
    net.train()
    before = {n: p.numpy().copy() for n, p in net.named_parameters()}
    opt = paddle.optimizer.SGD(learning_rate=0.5, parameters=[p for p in net.parameters() if not p.stop_gradient])
    loss = paddle.nn.functional.cross_entropy(net(paddle.randn([6, 3, 8, 8])), paddle.to_tensor([0, 1, 2, 3, 4, 0]))
    loss.backward()
    opt.step()
    plain = net.export(code)
    active_shapes = {n: tuple(p.shape) for n, p in plain.named_parameters()}
    changed_somewhere = 0
    for name, param in net.named_parameters():
        delta = param.numpy() - before[name]
        mapped = name.replace("head.weight", "head.weight")
        if mapped in active_shapes:
            region = tuple(slice(0, s) for s in active_shapes[mapped])
            outside = delta.copy()
            outside[region] = 0
            assert not outside.any(), f"{name} changed outside its active slice"
            changed_somewhere += bool(delta[region].any())
        elif "_mean" not in name and "_variance" not in name:
            assert not delta.any(), f"{name} is not used by {code} but changed"
    assert changed_somewhere > 20


def test_set_active_rejects_codes_outside_the_space():
    net = ResNet20Supernet(num_classes=5)
    with pytest.raises(InputError, match=r"field 1 \(1-based\) is 5"):
        net.set_active("5" + SPACE.largest()[2:])
    with pytest.raises(InputError, match="unknown shortcut policy"):
        ResNet20Supernet(shortcut="maybe")
