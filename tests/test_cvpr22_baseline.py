"""The 2022 official baseline: external frozen teacher, K subnets with CE + soft-label CE, one step."""
import numpy as np
import paddle
import pytest

from paddle_supernet.errors import InputError
from paddle_supernet.nn.official_weights import save_official
from paddle_supernet.nn.resnet48 import ResNet48Supernet, StandaloneResNet48
from paddle_supernet.spaces.cvpr22_resnet48 import Cvpr22ResNet48
from paddle_supernet.strategies import build_strategy
from paddle_supernet.strategies.base import soft_cross_entropy
from tests.helpers import synthetic_data, tiny_config

SMALL = {"small_input": True, "width_scale": 0.125}
SPACE = Cvpr22ResNet48(num_classes=4)
R48 = ["space=cvpr22_resnet48", "model.small_input=true", "model.width_scale=0.125"]


def _teacher_file(tmp_path, seed=1):
    paddle.seed(seed)
    teacher = StandaloneResNet48(SPACE.largest(), num_classes=4, **SMALL)
    path = tmp_path / "teacher.pdparams"
    save_official(path, teacher)
    return path, teacher


def test_soft_cross_entropy_matches_numpy():
    rng = np.random.default_rng(0)
    s, t = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    for temperature in (1.0, 2.0):
        p = np.exp(t / temperature) / np.exp(t / temperature).sum(1, keepdims=True)
        log_q = s / temperature - np.log(np.exp(s / temperature).sum(1, keepdims=True))
        expected = -(p * log_q).sum(1).mean() * temperature ** 2
        got = float(soft_cross_entropy(paddle.to_tensor(s.astype("float32")), paddle.to_tensor(t.astype("float32")),
                                       temperature))
        assert got == pytest.approx(expected, rel=1e-5)


def test_kd_step_accumulates_ce_plus_soft_ce_to_the_frozen_teacher(tmp_path):
    path, teacher = _teacher_file(tmp_path)
    cfg = tiny_config(R48 + [f"strategy={{name: kd, k: 2, teacher_weights: {path}}}"])
    strategy = build_strategy(cfg["strategy"], SPACE, seed=5)
    strategy.setup(cfg, num_classes=4)
    x = paddle.randn([6, 3, 8, 8])
    y = paddle.to_tensor([0, 1, 2, 3, 0, 1])
    paddle.seed(0)
    net = ResNet48Supernet(num_classes=4, **SMALL)
    net.train()
    scalars = strategy.step(net, x, y, epoch=1, step=2)
    got = {n: p.grad.numpy().copy() for n, p in net.named_parameters() if p.grad is not None}

    paddle.seed(0)
    ref = ResNet48Supernet(num_classes=4, **SMALL)
    ref.train()
    teacher.eval()
    target = teacher(x).detach()
    for k in range(2):
        ref.set_active(SPACE.sample(5, 1, 2, k))
        out = ref(x)
        (paddle.nn.functional.cross_entropy(out, y) + soft_cross_entropy(out, target)).backward()
    expected = {n: p.grad.numpy() for n, p in ref.named_parameters() if p.grad is not None}
    assert got.keys() == expected.keys()
    for name in got:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-4, atol=1e-6, err_msg=name)
    assert all(p.stop_gradient for p in strategy.teacher.network.parameters())
    assert scalars["loss/subnet_kd"] > 0


def test_kd_without_teacher_weights_is_refused():
    cfg = tiny_config(R48 + ["strategy={name: kd}"])
    strategy = build_strategy(cfg["strategy"], SPACE, seed=0)
    with pytest.raises(InputError, match="strategy.teacher_weights"):
        strategy.setup(cfg, 4)


def test_teacher_of_another_network_is_refused(tmp_path):
    paddle.seed(0)
    other = StandaloneResNet48(SPACE.largest(), num_classes=4, small_input=True, width_scale=0.25)
    path = tmp_path / "other.pdparams"
    save_official(path, other)
    cfg = tiny_config(R48 + [f"strategy={{name: kd, teacher_weights: {path}}}"])
    strategy = build_strategy(cfg["strategy"], SPACE, seed=0)
    with pytest.raises(InputError, match=r"other.pdparams: blocks.0.conv.weight: shape \[16, 3, 3, 3\] in the file"):
        strategy.setup(cfg, 4)


def test_pretrain_then_baseline_then_evaluate(tmp_path):
    """Largest-net pretraining exports the official layout; the baseline starts from it, distils
    from it (frozen) and is scored; the pretraining itself computes the exported teacher."""
    from paddle_supernet.engine.trainer import Trainer
    from paddle_supernet.evaluator import Evaluator
    from paddle_supernet.io.challenge_json import arch_list_from_codes, read_arch_file
    from paddle_supernet.nn.official_weights import read_official

    data = synthetic_data(n_train=32, n_val=16, size=8, classes=4)
    full = tmp_path / "resnet48.pdparams"
    pre = tiny_config(R48 + ["strategy={name: fixed}", "schedule.epochs=1", f"checkpoint.export_full={full}"])
    Trainer(pre, tmp_path / "pre", data=data).fit()
    assert sorted(read_official(full)) == sorted(ResNet48Supernet(num_classes=4, **SMALL).state_dict())
    base = tiny_config(R48 + ["schedule.epochs=1", f"model.pretrained={full}",
                              f"strategy={{name: kd, k: 2, teacher_weights: {full}}}"])
    trainer = Trainer(base, tmp_path / "base", data=data)
    trainer._resume_or_init()
    state = read_official(full)
    np.testing.assert_array_equal(trainer.model.state_dict()["blocks.3.conv1.weight"].numpy(), state["blocks.3.conv1.weight"])
    ckpt = trainer.fit()
    archs = arch_list_from_codes([SPACE.smallest(), SPACE.sample(0), SPACE.largest()], 0.0)
    out = tmp_path / "sub.json"
    Evaluator.from_checkpoint(ckpt, data=data).evaluate(archs, out)
    scored = read_arch_file(out, SPACE)
    assert list(scored) == ["arch1", "arch2", "arch3"] and all(0 <= e.acc <= 1 for e in scored.values())


def test_evaluate_cli_scores_an_official_list_subset_in_the_test_file_format(tmp_path, cvpr22_archs, capsys):
    from paddle_supernet.cli import main
    from paddle_supernet.engine.checkpoint import save_checkpoint
    from paddle_supernet.io.challenge_json import dumps_arch_list, read_arch_file, write_arch_file

    official = read_arch_file(cvpr22_archs)
    keys = list(official)[:: 15000][:3]
    archs = tmp_path / "archs.json"
    write_arch_file(archs, {k: official[k] for k in keys})
    cfg = tiny_config(R48 + ["data.image_size=8", "data.train_subset=64", "data.val_subset=32",
                             "eval.calib_images=16", "eval.batch_size=16"])
    paddle.seed(0)
    model = ResNet48Supernet(num_classes=10, **SMALL)
    ckpt = tmp_path / "checkpoint.pdparams"
    save_checkpoint(ckpt, model, None, {"config": cfg, "space": "cvpr22_resnet48", "num_classes": 10,
                                        "fingerprint": "", "step": 3, "total_steps": 8, "finished": False})
    out = tmp_path / "submission.json"
    assert main(["evaluate", "--checkpoint", str(ckpt), "--archs", str(archs), "--out", str(out)]) == 0
    assert f"warning: {ckpt} is unfinished (step 3 of 8)" in capsys.readouterr().err
    scored = read_arch_file(out)
    assert list(scored) == keys and [e.arch for e in scored.values()] == [official[k].arch for k in keys]
    assert out.read_text() == dumps_arch_list(scored) and not out.read_text().endswith("\n")

def test_evaluate_cli_refuses_a_2021_list_for_a_2022_checkpoint(tmp_path, capsys):
    from paddle_supernet.cli import main
    from paddle_supernet.engine.checkpoint import save_checkpoint

    cfg = tiny_config(R48)
    paddle.seed(0)
    ckpt = tmp_path / "checkpoint.pdparams"
    save_checkpoint(ckpt, ResNet48Supernet(num_classes=10, **SMALL), None,
                    {"config": cfg, "space": "cvpr22_resnet48", "num_classes": 10})
    (tmp_path / "r20.json").write_text('{"arch1": {"acc": 0, "arch": "' + "16-" * 19 + '16"}}')
    argv = ["evaluate", "--checkpoint", str(ckpt), "--archs", str(tmp_path / "r20.json"), "--out", str(tmp_path / "x.json")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"r20.json: is a cvpr21_resnet20 arch list and the checkpoint {ckpt} is a cvpr22_resnet48 supernet" in err
    assert not (tmp_path / "x.json").exists()
