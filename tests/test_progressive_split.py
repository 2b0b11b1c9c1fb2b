import numpy as np
import paddle
import pytest

from paddle_supernet.engine.checkpoint import load_checkpoint
from paddle_supernet.engine.trainer import Trainer
from paddle_supernet.errors import InputError
from paddle_supernet.nn.batchnorm import SuperBN2D
from paddle_supernet.nn.branches import partition
from paddle_supernet.nn.conv import BranchedSuperConv2D
from paddle_supernet.nn.resnet20 import ResNet20Supernet
from paddle_supernet.spaces import get_space

from helpers import synthetic_data, tiny_config

SPACE = get_space("cvpr21_resnet20")
CODES = [SPACE.largest(), SPACE.smallest()] + SPACE.sample_unique(4, seed=7)


def test_partition_schemes():
    opts = list(range(4, 65, 4))
    assert partition([4, 8, 12, 16], "halves") == [[12, 16], [4, 8]]
    assert partition(opts, "chunks:4")[0] == [52, 56, 60, 64]
    assert len(partition(opts, "per_option")) == 16 and partition(opts, "none") == [opts]
    with pytest.raises(InputError, match="do not partition the options"):
        partition([4, 8, 12, 16], [[4, 8], [12]])
    with pytest.raises(InputError, match="unknown branch scheme 'thirds'"):
        partition([4, 8], "thirds")


def _trained_stage1(seed=0):
    paddle.seed(seed)
    net = ResNet20Supernet(num_classes=5, shortcut="official", width_map={4: 5, 8: 9}, activation="prelu")
    net.train()
    opt = paddle.optimizer.Momentum(0.05, parameters=[p for p in net.parameters() if not p.stop_gradient])
    for code in CODES:
        net.set_active(code)
        paddle.nn.functional.cross_entropy(net(paddle.randn([8, 3, 8, 8])), paddle.randint(0, 5, [8])).backward()
        opt.step()
        opt.clear_grad()
    return net


def _outputs(net, x):
    out = {}
    for code in CODES:
        net.set_active(code)
        for mode in ("train", "eval"):
            getattr(net, mode)()
            out[(code, mode)] = net(x).numpy()
    return out


def test_released_groups_match_the_released_model_for_every_field():
    from paddle_supernet.spaces.cvpr21_resnet20 import FIELD_CHOICES

    # by hand from the released stage-2 model: branch = (enhanced width - 1) // (max width / 4), 4 -> 5, 8 -> 9
    table = {16: [[16], [4], [8, 12]],
             32: [[28, 32], [4], [8, 12, 16], [20, 24]],
             64: [[52, 56, 60, 64], [4, 8, 12, 16], [20, 24, 28, 32], [36, 40, 44, 48]]}
    for field, options in enumerate(FIELD_CHOICES):
        assert partition(options, "released") == table[max(options)], field


@pytest.mark.parametrize("branches", ["halves", "chunks:4", "per_option", {"default": "halves", 13: "per_option"},
                                      {"default": "released", "head": "released"}])
def test_split_preserves_every_subnet(branches):
    old = _trained_stage1()
    x = paddle.randn([4, 3, 8, 8])
    snapshot = {k: v.clone() for k, v in old.state_dict().items()}  # train-mode forwards move BN statistics
    before = _outputs(old, x)
    new = ResNet20Supernet(num_classes=5, shortcut="official", width_map={4: 5, 8: 9}, activation="prelu", branches=branches)
    new.load_stage(snapshot, "none")
    assert len(new.state_dict()) > len(old.state_dict())
    after = _outputs(new, x)
    for key in before:
        np.testing.assert_array_equal(after[key], before[key], err_msg=str(key))
    for code in CODES[:3]:  # export follows the branches
        new.set_active(code)
        new.eval()
        plain = new.export(code)
        plain.eval()
        np.testing.assert_allclose(plain(x).numpy(), new(x).numpy(), rtol=1e-5, atol=1e-5)


def _branch_tensors(net):
    out = {}
    for name, layer in net.named_sublayers():
        if isinstance(layer, BranchedSuperConv2D):
            out.update({(name, b): layer.branch_weight(g[0]).numpy().copy() for b, g in enumerate(layer.option_groups)})
        elif isinstance(layer, SuperBN2D) and layer.option_groups:
            out.update({(name, b): layer.branch_affine(g[0])[0].numpy().copy() for b, g in enumerate(layer.option_groups)})
    return out


def test_training_a_subnet_changes_only_its_branches_and_not_the_teacher():
    old = _trained_stage1()
    net = ResNet20Supernet(num_classes=5, shortcut="official", width_map={4: 5, 8: 9}, activation="prelu",
                           branches="per_option")
    net.load_stage(old.state_dict(), "none")
    code = "12-8-4-12-8-4-12-28-24-20-16-12-8-60-56-52-48-44-40-36"  # no field at its largest option
    fields = [int(v) for v in code.split("-")]
    before = _branch_tensors(net)
    net.set_active(code)
    net.train()
    opt = paddle.optimizer.SGD(0.5, parameters=[p for p in net.parameters() if not p.stop_gradient])
    paddle.nn.functional.cross_entropy(net(paddle.randn([6, 3, 8, 8])), paddle.randint(0, 5, [6])).backward()
    opt.step()
    after = _branch_tensors(net)
    layers = dict(net.named_sublayers())
    changed = 0
    for (name, b), value in before.items():
        layer = layers[name]
        used = layer.branch_of[fields[layer.field]] == b
        if not used:
            np.testing.assert_array_equal(after[(name, b)], value, err_msg=f"{name} branch {b} is not used by {code}")
        changed += used and not np.array_equal(after[(name, b)], value)
        if b == 0:  # the teacher's branch (largest option) is never used by this subnet
            assert not used
    assert changed > 20


def test_classifier_split_trains_only_the_active_head_branch():
    from paddle_supernet.nn.linear import BranchedSuperLinear

    old = _trained_stage1()
    net = ResNet20Supernet(num_classes=5, shortcut="official", width_map={4: 5, 8: 9}, activation="prelu",
                           branches={"default": "none", "head": "released"})
    net.load_stage(old.state_dict(), "none")
    assert isinstance(net.head, BranchedSuperLinear) and len(net.head.option_groups) == 4
    code = "16-16-16-16-16-16-16-32-32-32-32-32-32-64-64-64-64-64-24-64"  # head input 24: group [20..32]
    net.set_active(code)
    net.train()
    before = [net.head.branch_affine(g[0])[0].numpy().copy() for g in net.head.option_groups]
    opt = paddle.optimizer.SGD(0.5, parameters=[p for p in net.parameters() if not p.stop_gradient])
    paddle.nn.functional.cross_entropy(net(paddle.randn([6, 3, 8, 8])), paddle.randint(0, 5, [6])).backward()
    opt.step()
    after = [net.head.branch_affine(g[0])[0].numpy() for g in net.head.option_groups]
    active = net.head.branch_of[24]
    assert active == 2
    for b in range(4):
        assert np.array_equal(before[b], after[b]) == (b != active), b


def test_split_must_refine_the_previous_stage():
    old = ResNet20Supernet(num_classes=5, branches="per_option")
    new = ResNet20Supernet(num_classes=5, branches="halves")
    with pytest.raises(InputError, match="spans several old branches"):
        new.load_stage(old.state_dict(), "per_option")


def test_trainer_splits_when_a_stage_starts_from_the_previous_one(tmp_path):
    data = synthetic_data()
    stage1 = tiny_config(["model.width_map={4: 5, 8: 9}", "model.activation=prelu"])
    Trainer(stage1, tmp_path / "s1", data=data).fit()
    ckpt1 = tmp_path / "s1" / "checkpoint.pdparams"
    stage2 = tiny_config(["model.width_map={4: 5, 8: 9}", "model.activation=prelu", "model.branches=halves",
                          f"checkpoint.init_from={ckpt1}", "schedule.epochs=1", "optimizer.lr=0.01"])
    trainer = Trainer(stage2, tmp_path / "s2", data=data)
    trainer._init_from_stage(load_checkpoint(ckpt1), str(ckpt1))
    reference = Trainer(stage1, tmp_path / "s1", data=data)
    reference._resume_or_init()
    x = paddle.to_tensor(data[1].to_input(data[1].images[:8]))
    for code in CODES[:3]:
        for net in (trainer.model, reference.model):
            net.set_active(code)
            net.eval()
        np.testing.assert_array_equal(trainer.model(x).numpy(), reference.model(x).numpy())
    Trainer(stage2, tmp_path / "s2", data=data).fit()
    assert load_checkpoint(tmp_path / "s2" / "checkpoint.pdparams")["meta"]["finished"]
    bad = tiny_config(["model.width_map={4: 5, 8: 9}", "model.activation=relu", "model.branches=halves", f"checkpoint.init_from={ckpt1}"])
    with pytest.raises(InputError, match="model.activation is 'prelu' there but 'relu' in this config"):
        Trainer(bad, tmp_path / "s3", data=data).fit()
