"""A search space of one's own (examples/plain_cnn.py) through configs, samplers, strategies,
evaluation and the command line, as the challenge spaces."""
import json

import numpy as np
import paddle
import pytest

from paddle_supernet.cli import main
from paddle_supernet.engine.config import load_config
from paddle_supernet.engine.trainer import Trainer
from paddle_supernet.errors import InputError
from paddle_supernet.evaluator import Evaluator
from paddle_supernet.io.challenge_json import read_arch_file
from paddle_supernet.plugins import import_modules
from paddle_supernet.spaces import get_space

from conftest import REPO
from helpers import TINY, synthetic_data

CONFIG = REPO / "configs" / "examples" / "plain_cnn.yaml"


@pytest.fixture(autouse=True)
def at_repo_root(monkeypatch):
    monkeypatch.chdir(REPO)  # the config imports examples.plain_cnn from the working directory
    import_modules(["examples.plain_cnn"])


def test_the_space_counts_what_its_stand_alone_network_holds():
    from examples.plain_cnn import build_standalone

    space = get_space("plain_cnn", num_classes=10, image_size=12)
    for code in (space.smallest(), space.largest(), space.sample(seed=3), space.sample(seed=4)):
        net = build_standalone(code, {}, 10)
        trainable = sum(int(np.prod(p.shape)) for p in net.parameters() if not p.stop_gradient)  # BN statistics are not
        assert space.params(code) == trainable, code
        # MACs by hand: 3x3 convolutions at their output size, the classifier
        hw, cin, macs = 12, 3, 0
        for width, stride in zip(map(int, code.split("-")), (1, 1, 2, 1, 2, 1)):
            hw = (hw - 1) // stride + 1
            macs += 9 * cin * width * hw * hw
            cin = width
        assert space.macs(code) == macs + cin * 10
        # every layer but the classifier in a group CCFS weighs: the stem, then one group per stage
        groups = space.group_params(code)
        assert len(groups) == 4 and min(groups) > 0 and sum(groups) == trainable - (cin * 10 + 10)


def test_the_supernet_computes_what_its_exported_subnets_compute():
    from examples.plain_cnn import build_supernet

    paddle.seed(0)
    model = build_supernet({}, 4)
    model.eval()
    space = get_space("plain_cnn")
    x = paddle.to_tensor(np.random.default_rng(0).normal(size=(3, 3, 12, 12)).astype("float32"))
    for code in (space.largest(), space.smallest(), space.sample(seed=1)):
        model.set_active(code)
        with paddle.no_grad():
            np.testing.assert_allclose(model(x).numpy(), model.export(code)(x).numpy(), rtol=1e-5, atol=1e-5)


PHASES = "sampler.phases=[{epochs: 1, width: [[8, 8], [16, 16], [32, 32]]}, {epochs: 1, width: [[4, 8], [8, 16], [16, 32]]}]"


@pytest.mark.parametrize("extra", [
    [],
    ["sampler.name=sandwich", "strategy.name=uniform", "strategy.k=2"],
    ["sampler.name=ccfs", "sampler.alphas=0.5", "strategy.name=uniform", "strategy.k=2"],
    ["sampler.name=fair", "strategy.name=uniform", "strategy.k=2"],
    ["sampler.name=phases", PHASES, "strategy.name=uniform"],
    ["strategy.name=cpt", "strategy.candidates=3", "strategy.knn=2", "strategy.recent=4", "strategy.reset_every=3"],
    ["model.contrastive={dim: 8, queue: 40}", "strategy.name=moco", "strategy.temperature=0.2", "strategy.momentum=0.9",
     "data.augment.resized_crop=[0.3, 1.0]", "data.augment.crop_padding=0"],
    ["strategy.name=uniform", "strategy.k=2", "model.few_shot={by: [c5], groups: [[[16]], [[32]]]}"],
], ids=["distill", "sandwich", "ccfs", "fair", "phases", "cpt", "moco", "few_shot"])
def test_the_example_config_trains_and_scores_archs_of_the_space(tmp_path, extra):
    cfg = load_config(CONFIG, TINY + ["eval.val_subset=null"] + extra)
    assert cfg["space"] == "plain_cnn"
    data = synthetic_data(n_val=24)
    Trainer(cfg, tmp_path, data=data, quiet=True).fit()
    evaluator = Evaluator.from_checkpoint(tmp_path / "checkpoint.pdparams", data=data)
    space = get_space("plain_cnn")
    scores = [evaluator.score(code) for code in (space.largest(), space.smallest())]
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_a_module_that_cannot_be_imported_is_one_error_naming_the_config_and_the_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(CONFIG.read_text().replace("[examples.plain_cnn]", "[examples.no_such_space]"))
    with pytest.raises(InputError, match=r"bad\.yaml: custom_imports: cannot import module 'examples.no_such_space'"):
        load_config(bad)
    bad.write_text(CONFIG.read_text().replace("[examples.plain_cnn]", "examples.plain_cnn"))
    with pytest.raises(InputError, match=r"bad\.yaml: custom_imports: must be a list of module names"):
        load_config(bad)


def test_the_command_line_samples_and_counts_archs_of_an_imported_space(tmp_path, capsys):
    archs, params = tmp_path / "archs.json", tmp_path / "params.json"
    assert main(["--import", "examples.plain_cnn", "sample", "--space", "plain_cnn", "--n", "5", "--seed", "0",
                 "--out", str(archs)]) == 0
    listed = read_arch_file(archs, get_space("plain_cnn"))
    assert len({entry.arch for entry in listed.values()}) == 5
    assert main(["--import", "examples.plain_cnn", "proxy", "--space", "plain_cnn", "--proxy", "params",
                 "--archs", str(archs), "--out", str(params)]) == 0
    space = get_space("plain_cnn")
    scored = json.loads(params.read_text())
    assert {v["acc"] for v in scored.values()} == {space.params(e.arch) for e in listed.values()}
    assert main(["--import", "no_such_module", "sample", "--space", "plain_cnn", "--n", "5",
                 "--out", str(tmp_path / "x.json")]) == 2
    assert "--import: cannot import module 'no_such_module'" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


def test_evaluate_imports_the_checkpoints_modules_and_names_them_when_it_cannot(tmp_path, monkeypatch):
    import subprocess
    import sys

    # a module only this process can import (an editable install may put the repository, and so
    # examples/, on every interpreter's path): it registers the example space by importing it
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "only_here_space.py").write_text("import examples.plain_cnn  # noqa: F401\n")
    monkeypatch.syspath_prepend(str(tmp_path / "mods"))
    cfg = load_config(CONFIG, TINY + ["schedule.epochs=1", "custom_imports=[only_here_space]"])
    Trainer(cfg, tmp_path / "run", data=synthetic_data(), quiet=True).fit()
    archs = tmp_path / "archs.json"
    assert main(["--import", "examples.plain_cnn", "sample", "--space", "plain_cnn", "--n", "2", "--out", str(archs)]) == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run([sys.executable, "-m", "paddle_supernet", "evaluate", "--checkpoint",
                           str(tmp_path / "run" / "checkpoint.pdparams"), "--archs", str(archs), "--out", "sub.json"],
                          cwd=elsewhere, capture_output=True, text=True)
    assert done.returncode == 2
    assert "checkpoint.pdparams: custom_imports: cannot import module 'only_here_space'" in done.stderr
    assert not (elsewhere / "sub.json").exists()


def test_the_example_space_registers_without_loading_paddle():
    import subprocess
    import sys

    code = "import sys, examples.plain_cnn; from paddle_supernet.spaces import get_space; " \
           "print(get_space('plain_cnn').largest(), 'paddle' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.stdout.split() == ["8-8-16-16-32-32", "False"], done.stderr


def test_a_strategy_of_ones_own_is_configured_checked_and_trained(tmp_path):
    from examples.smoothed_ce import smoothed_cross_entropy

    from paddle_supernet.strategies import TrainingStrategy, register_strategy

    rng = np.random.default_rng(0)
    logits, labels = rng.normal(size=(5, 4)).astype("float32"), rng.integers(0, 4, size=5)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -(0.8 * log_p[np.arange(5), labels] + 0.2 * log_p.mean(axis=1)).mean()
    got = smoothed_cross_entropy(paddle.to_tensor(logits), paddle.to_tensor(labels), 0.2)
    assert float(got) == pytest.approx(float(expected), rel=1e-5)

    smoothed = REPO / "configs" / "examples" / "plain_cnn_smoothed.yaml"
    cfg = load_config(smoothed, TINY + ["strategy.k=3"])
    assert cfg["strategy"] == {"name": "smoothed_ce", "k": 3, "smoothing": 0.1, "reduce": "mean"}
    trainer = Trainer(cfg, tmp_path, data=synthetic_data(), quiet=True)
    trainer.fit()
    assert (tmp_path / "checkpoint.pdparams").exists()
    with pytest.raises(InputError, match=r"strategy\.smoothin: unknown key for strategy 'smoothed_ce'"):
        load_config(smoothed, ["strategy.smoothin=0.2"])
    with pytest.raises(InputError, match=r"strategy\.smoothing: must be a number in \[0, 1\)"):
        Trainer(load_config(smoothed, TINY + ["strategy.smoothing=1.5"]), tmp_path / "bad", data=synthetic_data(),
                quiet=True).fit()
    with pytest.raises(ValueError, match="already registered"):
        register_strategy("uniform")(type("Other", (TrainingStrategy,), {}))


def test_a_sampler_of_ones_own_is_named_and_configured_in_the_config():
    from paddle_supernet.samplers import Sampler, build_sampler, register_sampler

    @register_sampler("test_largest_every", every=2)
    class LargestEvery(Sampler):
        """The largest arch on every ``every``-th step, uniform draws otherwise."""

        def __init__(self, space, seed, distribution=None, variant=None, every=2):
            super().__init__(space, seed, distribution, variant)
            self.every = every

        def archs(self, epoch, step, count):
            if step % self.every == 0:
                return [self.space.largest()] * count
            return [self.uniform(epoch, step, k) for k in range(count)]

    cfg = load_config(CONFIG, ["sampler.name=test_largest_every", "sampler.every=3"])
    assert cfg["sampler"] == {"name": "test_largest_every", "every": 3}
    space = get_space("plain_cnn")
    sampler = build_sampler(cfg["sampler"], space, cfg["seed"])
    assert sampler.archs(0, 3, 2) == [space.largest()] * 2
    assert sampler.archs(0, 4, 2) == [space.sample(cfg["seed"], 0, 4, k) for k in range(2)]
    with pytest.raises(InputError, match=r"sampler\.evry: unknown key for sampler 'test_largest_every'"):
        load_config(CONFIG, ["sampler.name=test_largest_every", "sampler.evry=3"])


def test_contrastive_pretraining_refuses_a_supernet_without_features(monkeypatch):
    from paddle_supernet.models import SUPERNETS, build_supernet

    monkeypatch.setitem(SUPERNETS._items, "plain_cnn", lambda model_cfg, num_classes: paddle.nn.Linear(2, num_classes))
    cfg = load_config(CONFIG, ["model.contrastive={dim: 8, queue: 40}", "strategy.name=moco"])
    with pytest.raises(InputError, match=r"model\.contrastive: contrastive pretraining needs the supernet's features"):
        build_supernet(cfg, 4)
    with pytest.raises(InputError, match=r"model\.contrastive: contrastive pretraining needs a plain supernet"):
        load_config(None, ["model.contrastive={dim: 8, queue: 40}", "strategy.name=moco", "space=cvpr22_resnet48",
                           "model.few_shot={by: [d4], groups: [[[2]], rest]}"])


@pytest.mark.parametrize("backend", ["inference", "shared_inference"])
def test_the_inference_backends_score_the_space_as_dygraph(tmp_path, backend):
    cfg = load_config(CONFIG, TINY + ["schedule.epochs=1", "eval.val_subset=null"])
    data = synthetic_data(n_val=24)
    Trainer(cfg, tmp_path, data=data, quiet=True).fit()
    ckpt = tmp_path / "checkpoint.pdparams"
    dygraph = Evaluator.from_checkpoint(ckpt, ["eval.score=neg_loss"], data=data)
    fast = Evaluator.from_checkpoint(ckpt, ["eval.score=neg_loss", f"eval.backend={backend}", "eval.threads=1"], data=data)
    space = get_space("plain_cnn")
    codes = sorted({space.largest(), space.smallest(), *(space.sample(seed=s) for s in range(3))})
    for code in codes:  # sorted, as the evaluator meets them: the shared program serves from the second arch on
        assert fast.score(code) == pytest.approx(dygraph.score(code), abs=1e-5)
    if backend == "shared_inference":
        assert fast._runner.built == 1  # every plain_cnn arch has the same structure


def test_ccfs_refuses_a_space_whose_layers_are_in_no_group(monkeypatch):
    from examples.plain_cnn import PlainCNN

    from paddle_supernet.samplers import build_sampler
    from paddle_supernet.spaces.base import LayerSpec

    monkeypatch.setattr(PlainCNN, "layer_specs", lambda self, code, **variant: [LayerSpec("conv", "convs.0", 3, 4, 3)])
    with pytest.raises(InputError, match=r"sampler\.name: space plain_cnn puts no layer in a group CCFS weighs"):
        build_sampler({"name": "ccfs", "alphas": 1.0}, get_space("plain_cnn"), 0)


def test_kd_takes_its_external_teacher_from_a_checkpoint_of_the_space(tmp_path):
    data = synthetic_data()
    Trainer(load_config(CONFIG, TINY + ["schedule.epochs=1"]), tmp_path / "teacher", data=data, quiet=True).fit()
    weights = tmp_path / "teacher" / "checkpoint.pdparams"
    cfg = load_config(CONFIG, TINY + ["schedule.epochs=1", "strategy.name=kd", "strategy.k=2",
                                      f"strategy.teacher_weights={weights}"])
    trainer = Trainer(cfg, tmp_path / "kd", data=data, quiet=True)
    trainer.fit()
    teacher = trainer.strategy.teacher.network  # the teacher's largest arch, exported from the checkpoint
    with paddle.no_grad():
        x = paddle.to_tensor(np.random.default_rng(0).normal(size=(2, 3, 8, 8)).astype("float32"))
        from paddle_supernet.engine.checkpoint import load_checkpoint, restore_model
        from paddle_supernet.models import build_supernet

        state = load_checkpoint(weights)
        supernet = build_supernet(state["meta"]["config"], state["meta"]["num_classes"])
        restore_model(supernet, state, str(weights))
        supernet.eval()
        teacher.eval()
        np.testing.assert_allclose(teacher(x).numpy(), supernet.export(get_space("plain_cnn").largest())(x).numpy(),
                                   rtol=1e-5, atol=1e-6)
