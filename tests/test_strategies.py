import numpy as np
import paddle
import pytest

from paddle_supernet.errors import InputError
from paddle_supernet.nn.resnet20 import ResNet20Supernet
from paddle_supernet.spaces import get_space
from paddle_supernet.strategies import build_strategy
from paddle_supernet.strategies.base import kl_to_teacher

from helpers import synthetic_data, tiny_config

SPACE = get_space("cvpr21_resnet20")


def _grads(net):
    return {n: p.grad.numpy().copy() for n, p in net.named_parameters() if p.grad is not None}


def _fresh(seed=0):
    paddle.seed(seed)
    net = ResNet20Supernet(num_classes=4)
    net.train()
    return net


def test_kl_matches_numpy():
    rng = np.random.default_rng(0)
    s, t = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    p = np.exp(t) / np.exp(t).sum(1, keepdims=True)
    q = np.exp(s) / np.exp(s).sum(1, keepdims=True)
    expected = (p * (np.log(p) - np.log(q))).sum(1).mean()
    got = float(kl_to_teacher(paddle.to_tensor(s.astype("float32")), paddle.to_tensor(t.astype("float32"))))
    assert got == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_distill_step_accumulates_the_paper_loss(reduce):
    x = paddle.randn([6, 3, 8, 8])
    y = paddle.to_tensor([0, 1, 2, 3, 0, 1])
    alpha, k = 0.8, 2
    strategy = build_strategy({"name": "distill", "k": k, "alpha": alpha, "reduce": reduce}, SPACE, seed=5)
    net = _fresh()
    strategy.step(net, x, y, epoch=1, step=2)
    got = _grads(net)

    ref = _fresh()
    ce = paddle.nn.functional.cross_entropy
    ref.set_active(SPACE.largest())
    teacher = ref(x)
    ce(teacher, y).backward()
    for i in range(k):
        ref.set_active(SPACE.sample(5, 1, 2, i))
        out = ref(x)
        loss = (1 - alpha) * ce(out, y) + alpha * kl_to_teacher(out, teacher.detach())
        (loss / (k if reduce == "mean" else 1)).backward()
    expected = _grads(ref)
    assert got.keys() == expected.keys()
    for name in got:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-4, atol=1e-6, err_msg=name)


def test_uniform_sampling_uses_the_local_rng():
    strategy = build_strategy({"name": "uniform", "k": 3}, SPACE, seed=9)
    assert [strategy.sample(0, 4, k) for k in range(3)] == [SPACE.sample(9, 0, 4, k) for k in range(3)]
    net = _fresh()
    scalars = strategy.step(net, paddle.randn([4, 3, 8, 8]), paddle.to_tensor([0, 1, 2, 3]), 0, 4)
    assert net.active_code == SPACE.sample(9, 0, 4, 2) and scalars["loss/subnet_ce"] > 0


@pytest.mark.parametrize("cfg, message", [
    ({"name": "distill", "alpha": 2}, "strategy.alpha: must be in"),
    ({"name": "uniform", "reduce": "max"}, "strategy.reduce: must be one of sum, mean"),
    ({"name": "nope"}, "unknown strategy 'nope'"),
    ({"name": "fixed", "arch": "1-2-3"}, "has 3 fields"),
])
def test_bad_strategy_config(cfg, message):
    with pytest.raises(InputError, match=message):
        build_strategy(cfg, SPACE, 0)


def test_look_and_max_recover_backpropagates_the_looked_archs_whose_loss_rose():
    from paddle_supernet.strategies.base import soft_cross_entropy

    x = paddle.randn([6, 3, 8, 8])
    y = paddle.to_tensor([0, 1, 2, 3, 0, 1])
    strategy = build_strategy({"name": "distill", "k": 1, "alpha": 0.8, "look": 3, "max_recover": 2}, SPACE, seed=5)

    def opt_for(net):
        return paddle.optimizer.SGD(0.5, parameters=[p for p in net.parameters() if not p.stop_gradient])

    net = _fresh()
    opt = opt_for(net)
    strategy.step(net, x, y, epoch=0, step=1)
    opt.step()
    opt.clear_grad()
    scalars, again = strategy.after_step(net, x, y, epoch=0, step=1)
    if again:
        opt.step()

    ref = _fresh()
    ref_opt = opt_for(ref)
    ce = paddle.nn.functional.cross_entropy
    ref.set_active(SPACE.largest())
    teacher = ref(x)
    ce(teacher, y).backward()
    teacher = teacher.detach()
    looked = [SPACE.sample(5, 0, 1, 10_000 + i) for i in range(3)]
    before = []
    for code in looked:
        ref.set_active(code)
        before.append(float(soft_cross_entropy(ref(x), teacher)))
    ref.set_active(SPACE.sample(5, 0, 1, 0))
    out = ref(x)
    (0.2 * ce(out, y) + 0.8 * kl_to_teacher(out, teacher)).backward()
    ref_opt.step()
    ref_opt.clear_grad()
    rose = 0
    for code, previous in zip(looked, before):
        ref.set_active(code)
        loss = soft_cross_entropy(ref(x), teacher)
        if float(loss) > previous:
            loss.backward()
            rose += 1
            if rose >= 2:
                break
    assert rose == 2  # this seed exercises the recovery, capped at max_recover
    assert scalars["look/recovered"] == rose and again
    if rose:
        ref_opt.step()
    for (name, a), b in zip(net.named_parameters(), ref.parameters()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def test_an_external_teacher_from_a_2021_checkpoint_is_its_largest_arch_whatever_its_shortcuts(tmp_path):
    from paddle_supernet.engine.trainer import Trainer
    from paddle_supernet.strategies.teachers import external_network

    data = synthetic_data()
    cfg = tiny_config(["strategy={name: fixed}", "schedule.epochs=1", "model.shortcut=projection"])
    trainer = Trainer(cfg, tmp_path, data=data)
    ckpt = trainer.fit()
    teacher = external_network(str(ckpt), tiny_config(["model.shortcut=official"]), trainer.space, 4)
    model = trainer.model
    model.set_active(trainer.space.largest())
    model.eval()
    x = paddle.to_tensor(np.random.default_rng(0).normal(size=(4, 3, 8, 8)).astype("float32"))
    np.testing.assert_allclose(teacher(x).numpy(), model(x).numpy(), atol=1e-5)
