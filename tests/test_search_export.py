"""Search: constraints honoured, no arch scored twice, seeded, resumed to the same end; export: a Paddle
Inference model, loaded in a fresh process, computes the evaluator's outputs for its arch."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import paddle
import pytest

from paddle_supernet.engine.trainer import Trainer
from paddle_supernet.errors import InputError
from paddle_supernet.evaluator import Evaluator
from paddle_supernet.search import Constraint, SearchHistory, run_search
from paddle_supernet.spaces import get_space

from helpers import synthetic_data, tiny_config

SPACE = get_space("cvpr21_resnet20")
SMALL = {"population": 12, "parents": 4, "mutations": 6, "crossovers": 6}


def _score(code):  # a stand-in supernet: prefers wide last stages, penalises MACs
    fields = SPACE.decode(code).fields
    return float(sum(fields[13:19]) - 1e-6 * SPACE.macs(code))


@pytest.mark.parametrize("method", ["evolution", "random"])
def test_search_honours_budgets_scores_each_arch_once_and_is_seeded(method):
    calls = []
    bounds = [Constraint("macs", 15e6), Constraint("params", 150e3)]
    result = run_search(SPACE, lambda c: calls.append(c) or _score(c), bounds, method, evaluations=60, seed=3, **SMALL)
    assert len(result.history) == 60 == len(calls) == len(set(calls))
    assert all(row["macs"] <= 15e6 and row["params"] <= 150e3 for row in result.history)
    again = run_search(SPACE, _score, bounds, method, evaluations=60, seed=3, **SMALL)
    assert again.history == result.history
    assert run_search(SPACE, _score, bounds, method, evaluations=60, seed=4, **SMALL).history != result.history


def test_evolution_finds_better_archs_than_random_search_on_a_known_objective():
    bounds = [Constraint("macs", 15e6)]
    evo = run_search(SPACE, _score, bounds, "evolution", evaluations=200, seed=0)
    rnd = run_search(SPACE, _score, bounds, "random", evaluations=200, seed=0)
    assert evo.best[0][1] > rnd.best[0][1]


def test_a_killed_search_resumes_to_the_uninterrupted_result(tmp_path):
    bounds = [Constraint("macs", 15e6)]
    whole = run_search(SPACE, _score, bounds, evaluations=50, seed=1, **SMALL)
    header = {"search": 1, "seed": 1}
    calls = []

    def dies_at_30(code):
        if len(calls) == 30:
            raise KeyboardInterrupt
        calls.append(code)
        return _score(code)

    with pytest.raises(KeyboardInterrupt):
        run_search(SPACE, dies_at_30, bounds, evaluations=50, seed=1, history=SearchHistory(tmp_path / "h.jsonl", header),
                   **SMALL)
    rescored = []
    resumed = run_search(SPACE, lambda c: rescored.append(c) or _score(c), bounds, evaluations=50, seed=1,
                         history=SearchHistory(tmp_path / "h.jsonl", header), **SMALL)
    assert resumed.history == whole.history and len(rescored) == 20 and not set(rescored) & set(calls)
    with pytest.raises(InputError, match="h.jsonl: was written by another search"):
        SearchHistory(tmp_path / "h.jsonl", {"search": 1, "seed": 2})


def test_bad_budgets_are_refused_before_any_scoring():
    with pytest.raises(InputError, match=r"--budget: macs <= 1000 is met by no arch of cvpr21_resnet20: the smallest "
                                         r"attainable is 1\.29371e\+06"):
        run_search(SPACE, lambda c: pytest.fail("scored"), [Constraint("macs", 1e3)])
    for text, message in (("energy=3", "must be COST=BOUND with COST one of params, macs, latency"),
                          ("macs=-1", "bound must be a finite number > 0")):
        with pytest.raises(InputError, match=message):
            Constraint.parse(text)


def test_an_exported_arch_loads_in_a_fresh_process_and_computes_the_evaluators_outputs(tmp_path):
    data = synthetic_data()
    Trainer(tiny_config(["schedule.epochs=1"]), tmp_path / "run", data=data).fit()
    ckpt = tmp_path / "run" / "checkpoint.pdparams"
    code = SPACE.sample(0, 0, 5, 0)
    # the CLI loads the config's data (Fashion-MNIST); here the evaluator is built on the test data instead
    from paddle_supernet.export import export_arch

    export_arch(Evaluator.from_checkpoint(ckpt, data=data), code, tmp_path / "deploy", str(ckpt))
    ev = Evaluator.from_checkpoint(ckpt, data=data)
    ev.model.set_active(code)
    ev._calibrate()
    images = np.random.default_rng(0).normal(size=(5, 3, 8, 8)).astype("float32")
    with paddle.no_grad():
        expected = ev.model(paddle.to_tensor(images)).numpy()
    np.save(tmp_path / "x.npy", images)
    script = ("import sys, numpy as np\nfrom paddle_supernet.inference_path import load_predictor, run_batches\n"
              f"p = load_predictor({str(tmp_path / 'deploy' / 'model')!r}, threads=1)\n"
              f"out = run_batches(p, p.get_input_names()[0], [np.load({str(tmp_path / 'x.npy')!r})])[0][0]\n"
              f"np.save({str(tmp_path / 'y.npy')!r}, out)\n")
    subprocess.run([sys.executable, "-c", script], check=True, cwd=Path(__file__).resolve().parents[1])
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), expected, atol=1e-5)
    meta = json.loads((tmp_path / "deploy" / "export.json").read_text())
    assert meta["arch"] == code and meta["input_shape"] == [None, 3, 8, 8]


@pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz").exists(),
                    reason="needs Debian's dataset-fashion-mnist (bash tools/install.sh --data)")
def test_the_search_command_writes_its_results_and_a_second_run_rescores_nothing(tmp_path, capsys):
    from paddle_supernet.cli import main

    Trainer(tiny_config(["schedule.epochs=1"]), tmp_path / "run", data=synthetic_data(classes=10)).fit()
    argv = ["search", "--checkpoint", str(tmp_path / "run" / "checkpoint.pdparams"), "--budget", "macs=1.5e7",
            "--evaluations", "12", "--population", "6", "--parents", "2", "--mutations", "3", "--crossovers", "3",
            "--out-dir", str(tmp_path / "search"), "--set", "eval.val_subset=100", "--set", "eval.calib_images=32"]
    assert main(argv) == 0
    best = (tmp_path / "search" / "best.json").read_bytes()
    history = (tmp_path / "search" / "history.jsonl").read_text().splitlines()
    assert len(history) == 13 and all(json.loads(row)["macs"] <= 1.5e7 for row in history[1:])
    assert (tmp_path / "search" / "search.png").stat().st_size > 0
    assert any((tmp_path / "search" / "vdl").iterdir())  # the scores for VisualDL
    summary = json.loads((tmp_path / "search" / "summary.json").read_text())
    assert (summary["scored"], summary["scored_here"]) == (12, 12) and summary["seconds_here"] > 0
    assert main(argv) == 0
    assert "resuming: 12 archs already scored" in capsys.readouterr().out
    assert json.loads((tmp_path / "search" / "summary.json").read_text())["scored_here"] == 0
    assert (tmp_path / "search" / "best.json").read_bytes() == best
    assert (tmp_path / "search" / "history.jsonl").read_text().splitlines() == history


def test_finetuning_starts_from_the_supernets_slice_and_its_result_exports_and_loads_the_same_way(tmp_path):
    from paddle_supernet.export import export_arch, finetune_network
    from paddle_supernet.inference_path import load_predictor, run_batches

    data = synthetic_data()
    Trainer(tiny_config(["schedule.epochs=1"]), tmp_path / "run", data=data).fit()
    ckpt = tmp_path / "run" / "checkpoint.pdparams"
    code = SPACE.sample(0, 0, 7, 0)
    recipe = tiny_config(["schedule.epochs=1", "optimizer.lr=0.01", "schedule.warmup_steps=0"])
    ev = Evaluator.from_checkpoint(ckpt, data=data)
    ev.model.set_active(code)
    ev._calibrate()
    inherited = ev.model.export(code)
    start = {k: v.numpy().copy() for k, v in inherited.state_dict().items()}
    seen = {}

    class Spy(paddle.nn.Layer):  # records the weights the fine-tuning's first forward sees
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x):
            if not seen:
                seen.update({k: v.numpy().copy() for k, v in self.net.state_dict().items()})
            return self.net(x)

    result = finetune_network(Spy(inherited), recipe, data)
    assert result["steps"] == 4 and 0 <= result["acc"] <= 1
    assert seen.keys() == start.keys()
    for key in start:  # exactly the supernet's slice, not a fresh initialisation
        np.testing.assert_array_equal(seen[key], start[key])
    assert any(not np.array_equal(v.numpy(), start[k]) for k, v in inherited.state_dict().items())  # it trained

    record = export_arch(Evaluator.from_checkpoint(ckpt, data=data), code, tmp_path / "deploy", str(ckpt),
                         finetune=recipe, finetune_data=data)
    assert record["finetune"]["steps"] == 4
    again = Evaluator.from_checkpoint(ckpt, data=data)
    again.model.set_active(code)
    again._calibrate()
    twin = again.model.export(code)
    finetune_network(twin, recipe, data)  # the same recipe from the same start: the same network
    images = np.random.default_rng(1).normal(size=(3, 3, 8, 8)).astype("float32")
    with paddle.no_grad():
        expected = twin(paddle.to_tensor(images)).numpy()
    predictor = load_predictor(str(tmp_path / "deploy" / "model"), threads=1)
    out = run_batches(predictor, predictor.get_input_names()[0], [images])[0][0]
    np.testing.assert_allclose(out, expected, atol=1e-5)
    with pytest.raises(InputError, match="model.pretrained"):
        finetune_network(twin, tiny_config(["model.pretrained=x.pdparams"]), data)


@pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz").exists(),
                    reason="needs Debian's dataset-fashion-mnist (bash tools/install.sh --data)")
def test_a_search_spread_over_two_ranks_scores_what_one_process_scores(tmp_path):
    from helpers import launch_two_ranks

    from paddle_supernet.cli import main

    Trainer(tiny_config(["schedule.epochs=1"]), tmp_path / "run", data=synthetic_data(classes=10)).fit()
    args = ["search", "--checkpoint", str(tmp_path / "run" / "checkpoint.pdparams"), "--budget", "macs=1.5e7",
            "--evaluations", "10", "--population", "5", "--parents", "2", "--mutations", "3", "--crossovers", "2",
            "--set", "eval.val_subset=64", "--set", "eval.calib_images=32"]
    assert main(args + ["--out-dir", str(tmp_path / "one")]) == 0
    launch_two_ranks(args + ["--out-dir", str(tmp_path / "two")], tmp_path)
    one = [json.loads(row) for row in (tmp_path / "one" / "history.jsonl").read_text().splitlines()[1:]]
    two = [json.loads(row) for row in (tmp_path / "two" / "history.jsonl").read_text().splitlines()[1:]]
    assert [row["code"] for row in two] == [row["code"] for row in one] and len(one) == 10
    np.testing.assert_allclose([row["score"] for row in two], [row["score"] for row in one], atol=1e-6)
    assert (tmp_path / "two" / "best.json").read_bytes() == (tmp_path / "one" / "best.json").read_bytes()
