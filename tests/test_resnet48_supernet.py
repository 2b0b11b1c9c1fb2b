"""ResNet48 supernet: subnets equal their exported plain networks; gradients stay in the active slices."""
import numpy as np
import paddle
import pytest

from paddle_supernet.errors import InputError
from paddle_supernet.io.challenge_json import read_arch_file
from paddle_supernet.nn.resnet48 import ResNet48Supernet, StandaloneResNet48
from paddle_supernet.spaces import get_space
from paddle_supernet.spaces.cvpr22_resnet48 import Cvpr22ResNet48, width_of

SMALL = {"small_input": True, "width_scale": 0.125}
SPACE = Cvpr22ResNet48(num_classes=10)


def _images(n=4, size=8, seed=0):
    return paddle.to_tensor(np.random.default_rng(seed).normal(size=(n, 3, size, size)).astype("float32"))


def _supernet(distribution="test", seed=0, **opts):
    paddle.seed(seed)
    return ResNet48Supernet(num_classes=10, distribution=distribution, **{**SMALL, **opts})


def _check_equal_to_export(net, code, x):
    net.set_active(code)
    plain = net.export(code)
    for train in (True, False):  # train mode: batch statistics (and equal running updates); eval: running ones
        net.train() if train else net.eval()
        plain.train() if train else plain.eval()
        np.testing.assert_allclose(net(x).numpy(), plain(x).numpy(), atol=1e-5, rtol=1e-5)
    counted = SPACE.params(code, **SMALL)
    assert sum(int(np.prod(p.shape)) for p in plain.parameters() if not p.stop_gradient) == counted


def test_official_key_layout_and_count():
    net = _supernet()
    keys = net.state_dict()
    assert len(keys) == 252
    assert list(keys["blocks.24.fc.weight"].shape) == [width_of(512, 1, 0.125), 10]  # [in, out] as the official file
    assert "blocks.6.downsample.0.weight" in keys and "blocks.7.downsample.0.weight" not in keys
    assert {k for k in keys if ".downsample." in k} == {f"blocks.{i}.downsample.{j}.{n}" for i in (6, 11, 19)
                                                       for j, n in [(0, "weight")] + [(1, m) for m in
                                                       ("weight", "bias", "_mean", "_variance")]}
    full = StandaloneResNet48(SPACE.largest(), num_classes=10, **SMALL)
    assert {k: list(v.shape) for k, v in full.state_dict().items()} == {k: list(v.shape) for k, v in keys.items()}


def test_largest_smallest_and_random_test_archs_equal_export():
    net, x = _supernet(), _images()
    codes = [SPACE.largest(), SPACE.smallest()] + [SPACE.sample(3, step=i) for i in range(4)]
    for code in codes:
        _check_equal_to_export(net, code, x)


def test_free_distribution_archs_equal_export():
    net, x = _supernet("free"), _images(seed=1)
    for code in [SPACE.smallest("free")] + [SPACE.sample(4, step=i, distribution="free") for i in range(4)]:
        assert not SPACE.in_test_distribution(code) or code == SPACE.smallest("free")
        _check_equal_to_export(net, code, x)


def test_official_test_list_codes_equal_export(cvpr22_archs):
    entries = list(read_arch_file(cvpr22_archs).values())
    net, x = _supernet(), _images(n=3, seed=2)
    for entry in entries[:: len(entries) // 20][:20]:
        _check_equal_to_export(net, entry.arch, x)


def test_official_full_size_network_counts():
    space = get_space("cvpr22_resnet48")
    code = space.sample(0)
    plain = StandaloneResNet48(code, num_classes=1000)
    assert sum(int(np.prod(p.shape)) for p in plain.parameters() if not p.stop_gradient) == space.params(code)
    assert isinstance(plain.blocks[0].maxpool, paddle.nn.MaxPool2D)
    assert plain.blocks[0].conv.weight.shape == [width_of(64, space.decode(code).stem_code), 3, 7, 7]


def test_backward_touches_only_active_slices_of_active_blocks():
    net, x = _supernet(), _images()
    code = "1" + "2232" + "3" + "3333" + "00" * 3 + "1313" + "00" * 3 + "121212" + "00" * 5 + "1515" + "00" * 3
    net.set_active(code)
    arch = SPACE.decode(code)
    net.train()
    net(x).sum().backward()
    grads = {name: p.grad for name, p in net.named_parameters() if not p.stop_gradient}
    assert grads["blocks.3.conv1.weight"] is None  # stage 1 depth 2: block 3 inactive
    w = grads["blocks.1.conv1.weight"].numpy()      # (mid, in, 3, 3); active mid = code 3 -> 7 of 8
    mid = width_of(64, 3, 0.125)
    assert mid < w.shape[0] and np.abs(w[mid:]).sum() == 0 and np.abs(w[:mid]).sum() > 0
    stem = arch.stem_channels(0.125)
    assert np.abs(grads["blocks.0.conv.weight"].numpy()[stem:]).sum() == 0
    fc = grads["blocks.24.fc.weight"].numpy()
    out4 = width_of(512, 5, 0.125)
    assert np.abs(fc[out4:]).sum() == 0 and np.abs(fc[:out4]).sum() > 0


@pytest.mark.parametrize("code, message", [
    ("16-" * 19 + "16", "not a 52-digit cvpr22_resnet48 code"),
    ("1" + "2228" + "1" + "1111" + "00" * 3 + "1111" + "00" * 3 + "1111" + "00" * 6 + "1111" + "00" * 3,
     r"digit 4 is 8, allowed \{2, 3, 4, 5\}"),
    ("1" + "2222" + "1" + "1111" + "10" + "0000" + "1111" + "00" * 3 + "1111" + "00" * 6 + "1111" + "00" * 3,
     r"digit 10 is 1, allowed \{0\}"),
])
def test_bad_codes_are_refused(code, message):
    with pytest.raises(InputError, match=message):
        _supernet().set_active(code)


def test_free_code_refused_by_test_supernet():
    code = SPACE.sample(4, step=0, distribution="free")
    assert not SPACE.in_test_distribution(code)
    with pytest.raises(InputError, match="outside the test distribution"):
        _supernet().set_active(code)


def test_tied_supernet_trains_the_baseline_ratios_and_refuses_untied_codes():
    tied = SPACE.sample(3, step=0, distribution="tied")  # all 7 ratios, stage outputs tied
    assert SPACE.in_distribution(tied, "tied") and not SPACE.in_test_distribution(tied)
    net = _supernet(distribution="tied")
    net.set_active(tied)
    assert net(_images()).shape[0] == _images().shape[0]
    with pytest.raises(InputError, match="outside the test distribution"):
        _supernet().set_active(tied)
    with pytest.raises(InputError, match="outside the tied distribution"):
        net.set_active(SPACE.sample(4, step=0, distribution="free"))


def test_frozen_bn_stats_never_move_and_ignore_calibration():
    from paddle_supernet.nn.batchnorm import calibrate_bn

    net, x = _supernet(bn_stats="frozen"), _images()
    before = {k: v.numpy().copy() for k, v in net.state_dict().items() if k.endswith(("_mean", "_variance"))}
    net.set_active(SPACE.sample(1))
    net.train()
    out_train = net(x).numpy()
    calibrate_bn(net, [x])
    net.eval()
    np.testing.assert_allclose(net(x).numpy(), out_train, atol=1e-6)  # the same statistics in both modes
    after = {k: v.numpy() for k, v in net.state_dict().items() if k in before}
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_width_scale_must_give_a_whole_divisor():
    with pytest.raises(InputError, match="model.width_scale"):
        ResNet48Supernet(num_classes=10, width_scale=0.1)
