"""Official ResNet48 state-dict layout: load into teacher and supernet, reorder, refuse mismatches, save."""
import numpy as np
import paddle
import pytest

from paddle_supernet.errors import InputError
from paddle_supernet.nn.official_weights import (full_network_state, load_official, read_official, reorder_by_l1,
                                                 save_official)
from paddle_supernet.nn.resnet48 import ResNet48Supernet, StandaloneResNet48
from paddle_supernet.spaces.cvpr22_resnet48 import Cvpr22ResNet48

SMALL = {"small_input": True, "width_scale": 0.125}
SPACE = Cvpr22ResNet48(num_classes=10)


def _official_file(tmp_path, seed=3):
    """A state dict in the official layout with random weights and non-trivial BN statistics."""
    rng = np.random.default_rng(seed)
    paddle.seed(seed)
    net = StandaloneResNet48(SPACE.largest(), num_classes=10, **SMALL)
    state = {}
    for key, value in net.state_dict().items():
        shape = value.shape
        if key.endswith("_variance"):
            state[key] = rng.uniform(0.5, 2.0, shape).astype("float32")
        elif key.endswith(("_mean", ".bias")):
            state[key] = rng.normal(0, 0.1, shape).astype("float32")
        else:
            state[key] = (value.numpy() * rng.uniform(0.5, 1.5, shape)).astype("float32")
    path = tmp_path / "resnet48.pdparams"
    paddle.save(state, str(path))
    return path, state


def _x(seed=0):
    return paddle.to_tensor(np.random.default_rng(seed).normal(size=(4, 3, 8, 8)).astype("float32"))


def test_loads_into_teacher_and_supernet_whose_largest_arch_computes_the_teacher(tmp_path):
    path, state = _official_file(tmp_path)
    teacher = StandaloneResNet48(SPACE.largest(), num_classes=10, **SMALL)
    load_official(teacher, read_official(path), str(path))
    supernet = ResNet48Supernet(num_classes=10, **SMALL)
    load_official(supernet, read_official(path), str(path))
    teacher.eval(), supernet.eval()
    supernet.set_active(SPACE.largest())
    np.testing.assert_allclose(supernet(_x()).numpy(), teacher(_x()).numpy(), atol=1e-5, rtol=1e-5)
    np.testing.assert_array_equal(teacher.state_dict()["blocks.24.fc.weight"].numpy(), state["blocks.24.fc.weight"])


def test_reorder_keeps_the_full_network_and_sorts_middle_channels(tmp_path):
    path, state = _official_file(tmp_path)
    plain, reordered = (StandaloneResNet48(SPACE.largest(), num_classes=10, **SMALL) for _ in range(2))
    load_official(plain, state, "a")
    new = reorder_by_l1(state)
    load_official(reordered, new, "b")
    plain.eval(), reordered.eval()
    np.testing.assert_allclose(reordered(_x()).numpy(), plain(_x()).numpy(), atol=1e-5, rtol=1e-5)
    for i in range(1, 24):  # independent check: the L1 importance of conv2's input channels is descending
        importance = np.abs(new[f"blocks.{i}.conv2.weight"]).sum(axis=(0, 2, 3))
        assert np.all(np.diff(importance) <= 0)
    assert np.array_equal(new["blocks.0.conv.weight"], state["blocks.0.conv.weight"])  # the stem is untouched
    assert np.array_equal(new["blocks.6.downsample.0.weight"], state["blocks.6.downsample.0.weight"])


def test_missing_key_and_shape_mismatch_are_refused_naming_the_key(tmp_path):
    _, state = _official_file(tmp_path)
    net = StandaloneResNet48(SPACE.largest(), num_classes=10, **SMALL)
    broken = dict(state)
    del broken["blocks.7.bn2._mean"]
    with pytest.raises(InputError, match=r"w.pdparams: blocks.7.bn2._mean: missing"):
        load_official(net, broken, "w.pdparams")
    wrong = StandaloneResNet48(SPACE.largest(), num_classes=10, small_input=True, width_scale=0.25)
    with pytest.raises(InputError, match=r"blocks.0.conv.weight: shape \[8, 3, 3, 3\] in the file, \[16, 3, 3, 3\] in the model"):
        load_official(wrong, state, "w.pdparams")
    with pytest.raises(InputError, match=r"unexpected"):
        load_official(net, {**state, "neck.mlp.0.weight": np.zeros(3, "float32")}, "w.pdparams")


def test_refuses_files_that_are_not_state_dicts(tmp_path):
    bad = tmp_path / "bad.pdparams"
    bad.write_bytes(b"not a pickle")
    with pytest.raises(InputError, match="bad.pdparams: unreadable"):
        read_official(bad)
    with pytest.raises(InputError, match="not found"):
        read_official(tmp_path / "none.pdparams")


def test_save_official_round_trips_from_the_supernet_and_from_a_checkpoint(tmp_path):
    from paddle_supernet.engine.checkpoint import save_checkpoint
    from tests.helpers import tiny_config

    path, _ = _official_file(tmp_path)
    supernet = ResNet48Supernet(num_classes=10, **SMALL)
    load_official(supernet, read_official(path), str(path))
    out = tmp_path / "ours.pdparams"
    supernet.eval()
    save_official(out, supernet.export(SPACE.largest()))
    again = read_official(out)
    original = read_official(path)
    assert sorted(again) == sorted(original)
    assert all(np.array_equal(again[k], original[k]) for k in original)
    cfg = tiny_config(["space=cvpr22_resnet48", "model.small_input=true", "model.width_scale=0.125"])
    ckpt = tmp_path / "checkpoint.pdparams"
    save_checkpoint(ckpt, supernet, None, {"config": cfg, "num_classes": 10, "space": "cvpr22_resnet48"})
    from_ckpt = full_network_state(ckpt)
    assert all(np.array_equal(from_ckpt[k], original[k]) for k in original)
