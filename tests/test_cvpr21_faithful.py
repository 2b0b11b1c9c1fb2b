"""2021 port made faithful: ground truth is always the official network, ReLU -> PReLU stages,
safety of calibration and stage initialisation, and the shipped configs' resolved hyper-parameters."""
from pathlib import Path

import numpy as np
import paddle
import pytest

from paddle_supernet.engine.checkpoint import load_checkpoint
from paddle_supernet.engine.config import load_config
from paddle_supernet.engine.trainer import Trainer
from paddle_supernet.errors import InputError
from paddle_supernet.io.challenge_json import arch_list_from_codes
from paddle_supernet.nn.batchnorm import calibrate_bn
from paddle_supernet.nn.resnet20 import ResNet20Supernet
from paddle_supernet.spaces import get_space
from paddle_supernet.standalone import run_standalone

from helpers import synthetic_data, tiny_config

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "cvpr21"
SPACE = get_space("cvpr21_resnet20")


def test_standalone_refuses_a_prelu_oe_supernet_config(tmp_path):
    cfg = load_config(CONFIGS / "stage1_prl_oe.yaml")
    archs = arch_list_from_codes([SPACE.smallest()])
    with pytest.raises(InputError, match=r"model.width_map: is \{4: 5, 8: 9\}, a supernet-only option"):
        run_standalone(cfg, archs, tmp_path / "gt.json", [0])
    assert not any(tmp_path.iterdir())  # nothing written


def test_calibration_without_images_is_refused():
    with pytest.raises(InputError, match="eval.calib_images: must be an integer >= 1, got 0"):
        load_config(None, ["eval.calib_images=0"])
    net = ResNet20Supernet(num_classes=4)
    with pytest.raises(ValueError, match="no calibration batches"):
        calibrate_bn(net, [])


def test_prelu_stage_starts_from_a_relu_checkpoint_with_its_configured_slopes(tmp_path):
    data = synthetic_data()
    relu = tiny_config(["strategy={name: fixed}", "schedule.epochs=1"])
    ckpt = Trainer(relu, tmp_path / "pre", data=data).fit()
    stage1 = tiny_config(["model.activation=prelu", "model.prelu_init=0.1", f"checkpoint.init_from={ckpt}"])
    trainer = Trainer(stage1, tmp_path / "s1", data=data)
    trainer._resume_or_init()
    old = load_checkpoint(ckpt)["model"]
    new = trainer.model.state_dict()
    slopes = [k for k in new if k.endswith(".act._weight")]
    assert len(slopes) == 9 and all(float(new[k].numpy().ravel()[0]) == pytest.approx(0.1) for k in slopes)
    assert all(np.array_equal(new[k].numpy(), old[k].numpy()) for k in old)


def test_stage_from_an_incompatible_checkpoint_is_refused(tmp_path):
    data = synthetic_data(classes=4)
    ckpt = Trainer(tiny_config(["strategy={name: fixed}", "schedule.epochs=1"]), tmp_path / "a", data=data).fit()
    other = synthetic_data(classes=3)
    with pytest.raises(InputError, match=r"checkpoint.init_from: was trained for 4 classes, this data has 3"):
        Trainer(tiny_config([f"checkpoint.init_from={ckpt}"]), tmp_path / "b", data=other).fit()
    r48 = tiny_config([f"checkpoint.init_from={ckpt}", "space=cvpr22_resnet48", "model.small_input=true",
                       "model.width_scale=0.125"])
    with pytest.raises(InputError, match="checkpoint is for space 'cvpr21_resnet20', config says 'cvpr22_resnet48'"):
        Trainer(r48, tmp_path / "d", data=data).fit()


# the resolved hyper-parameters of every shipped 2021 recipe: a silent change of a _base_ shows here
PINNED = {
    # name: (lr, epochs, warmup_steps, strategy, k, alpha, branches, activation, width_map)
    # plus, for the released-code stages, (teacher_weights, freeze_teacher, teacher_ce) in RELEASED
    "pretrain_largest": (0.1, 300, 0, "fixed", None, None, "none", "relu", None),
    "pretrain_largest_prelu": (0.1, 300, 0, "fixed", None, None, "none", "prelu", None),
    "stage1_base": (0.01, 300, 0, "distill", 8, 0.8, "none", "relu", None),
    "stage1_oe": (0.01, 300, 0, "distill", 8, 0.8, "none", "relu", {4: 5, 8: 9}),
    "stage1_prl_oe": (0.01, 300, 0, "distill", 8, 0.8, "none", "prelu", {4: 5, 8: 9}),
    "stage1_prl_oe_code": (0.01, 300, 0, "distill", 8, 0.8, "none", "prelu", {4: 5, 8: 9}),
    "stage2_base": (0.001, 300, 0, "distill", 8, 0.8, "halves", "relu", None),
    "stage2_prl_oe": (0.001, 300, 0, "distill", 8, 0.8, "halves", "prelu", {4: 5, 8: 9}),
    "stage2_prl_oe_code": (0.001, 300, 0, "distill", 8, 1.0, {"default": "released", "head": "released"}, "prelu",
                           {4: 5, 8: 9}),
    "stage3_base": (0.001, 300, 0, "distill", 8, 0.8, "per_option", "relu", None),
    "stage3_prl_oe": (0.001, 300, 0, "distill", 8, 0.8, "per_option", "prelu", {4: 5, 8: 9}),
    "stage3_prl_oe_code": (0.001, 100, 0, "distill", 8, 0.8, {"default": "per_option", "head": "per_option"}, "prelu",
                           {4: 5, 8: 9}),
    "stage3_prl_oe_code_frozen": (0.001, 100, 0, "distill", 8, 1.0, {"default": "per_option", "head": "per_option"},
                                  "prelu", {4: 5, 8: 9}),
}
RELEASED = {"stage2_prl_oe_code": ("separate", True, False), "stage3_prl_oe_code": ("separate", False, True),
            "stage3_prl_oe_code_frozen": ("separate", True, False)}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_shipped_2021_recipes_resolve_to_the_pinned_hyper_parameters(name):
    cfg = load_config(CONFIGS / f"{name}.yaml")
    s, m = cfg["strategy"], cfg["model"]
    got = (cfg["optimizer"]["lr"], cfg["schedule"]["epochs"], cfg["schedule"]["warmup_steps"], s["name"], s.get("k"),
           s.get("alpha"), m["branches"], m["activation"], m["width_map"])
    assert got == PINNED[name]
    assert (m["teacher_weights"], m["freeze_teacher"], s.get("teacher_ce", True)) == RELEASED.get(name, ("shared", False, True))
    assert s.get("look", 0) == (5 if name == "stage1_prl_oe_code" else 0)
    assert (cfg["optimizer"]["momentum"], cfg["optimizer"]["weight_decay"], cfg["data"]["batch_size"]) == (0.9, 5e-4, 128)


def _split_stage1(teacher_weights="separate", freeze=False, branches="released"):
    paddle.seed(0)
    old = ResNet20Supernet(num_classes=5, width_map={4: 5, 8: 9}, activation="prelu")
    new = ResNet20Supernet(num_classes=5, width_map={4: 5, 8: 9}, activation="prelu",
                           branches={"default": branches, "head": branches}, teacher_weights=teacher_weights,
                           freeze_teacher=freeze)
    new.load_stage(old.state_dict(), "none")
    return old, new


def test_separate_teacher_split_keeps_teacher_and_subnets():
    old, new = _split_stage1()
    x = paddle.randn([4, 3, 8, 8])
    for net in (old, new):
        net.eval()
    for code in [SPACE.largest(), SPACE.smallest(), SPACE.sample(3)]:
        old.set_active(code)
        for teacher in (False, True):
            new.set_active(code, teacher=teacher)
            np.testing.assert_array_equal(new(x).numpy(), old(x).numpy())
    assert new.stem_conv.branch_of[16] == 1 and len(new.stem_conv.extra_weights) == 3  # teacher + 3 groups


def test_frozen_teacher_does_not_move_and_the_largest_student_uses_its_own_branch(tmp_path):
    data = synthetic_data(classes=5)
    cfg = tiny_config(["model.width_map={4: 5, 8: 9}", "model.activation=prelu",
                       "model.branches={default: released, head: released}", "model.teacher_weights=separate",
                       "model.freeze_teacher=true", "strategy={name: distill, k: 2, alpha: 1.0, teacher_ce: false}",
                       "optimizer.weight_decay=0.01", "schedule.epochs=1"])
    trainer = Trainer(cfg, tmp_path / "s2", data=data)
    layers = trainer.model._branched_layers()
    teacher_before = [layer.weight.numpy().copy() for layer in layers]
    trainer.fit()  # real optimizer: momentum + L2 decay, several steps
    for layer, before in zip(layers, teacher_before):
        np.testing.assert_array_equal(layer.weight.numpy(), before)
    net = trainer.model
    net.set_active(SPACE.largest())  # a student at the largest options
    net.train()
    student = {id(layer): layer.branch_weight(16 if layer.field <= 6 else 32 if layer.field <= 12 else 64).numpy().copy()
               for layer in net.sublayers() if hasattr(layer, "branch_weight")}
    opt = paddle.optimizer.Momentum(0.5, parameters=[p for p in net.parameters() if not p.stop_gradient],
                                    weight_decay=0.01)
    paddle.nn.functional.cross_entropy(net(paddle.randn([6, 3, 8, 8])), paddle.randint(0, 5, [6])).backward()
    opt.step()
    for layer in net.sublayers():
        if hasattr(layer, "branch_weight"):
            assert layer.weight.stop_gradient  # the teacher's branch 0 is outside the optimizer
            top = 16 if layer.field <= 6 else 32 if layer.field <= 12 else 64
            assert not np.array_equal(layer.branch_weight(top).numpy(), student[id(layer)])


def test_frozen_teacher_needs_separate_weights():
    with pytest.raises(InputError, match="model.freeze_teacher: a frozen teacher needs its own weights"):
        ResNet20Supernet(num_classes=5, freeze_teacher=True)


def test_a_student_step_at_the_largest_options_touches_only_its_own_branch():
    _, net = _split_stage1(freeze=True)
    net.set_active(SPACE.largest())
    net.train()
    layers = [layer for layer in net.sublayers() if hasattr(layer, "extra_weights") and layer.option_groups]
    before = [[layer.weight.numpy().copy()] + [w.numpy().copy() for w in layer.extra_weights] for layer in layers]
    opt = paddle.optimizer.Momentum(0.5, momentum=0.9, weight_decay=paddle.regularizer.L2Decay(0.01),
                                    parameters=[p for p in net.parameters() if not p.stop_gradient])
    paddle.nn.functional.cross_entropy(net(paddle.randn([6, 3, 8, 8])), paddle.randint(0, 5, [6])).backward()
    opt.step()
    for layer, old in zip(layers, before):
        top = layer.branch_of[max(layer.branch_of)]  # the student branch of the largest option
        now = [layer.weight.numpy()] + [w.numpy() for w in layer.extra_weights]
        for b, (x, y) in enumerate(zip(old, now)):
            assert np.array_equal(x, y) == (b != top), (type(layer).__name__, b, top)
