import subprocess
import sys

import numpy as np
import paddle
import pytest

from paddle_supernet import evaluator as evaluator_module
from paddle_supernet.engine.trainer import Trainer
from paddle_supernet.errors import InputError
from paddle_supernet.evaluator import Evaluator
from paddle_supernet.io.challenge_json import arch_list_from_codes, read_arch_file, write_arch_file
from paddle_supernet.spaces import get_space

from helpers import synthetic_data, tiny_config

SPACE = get_space("cvpr21_resnet20")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    data = synthetic_data(n_val=40)
    Trainer(tiny_config(["eval.batch_size=16"]), run, data=data).fit()
    return run / "checkpoint.pdparams", data


def test_score_equals_exported_network_accuracy(trained):
    ckpt, data = trained
    ev = Evaluator.from_checkpoint(ckpt, data=data)
    code = SPACE.sample(8)
    acc = ev.score(code)
    plain = ev.model.export(code)  # carries the calibrated statistics
    plain.eval()
    val = data[1]
    with paddle.no_grad():
        logits = plain(paddle.to_tensor(val.to_input(val.images))).numpy()
    assert acc == pytest.approx(float((logits.argmax(1) == val.labels).mean()))
    ev_loss = Evaluator.from_checkpoint(ckpt, ["eval.score=neg_loss"], data=data)
    shifted = logits - logits.max(1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    assert ev_loss.score(code) == pytest.approx(log_probs[np.arange(len(val)), val.labels].mean(), rel=1e-5)  # minus the CE


def test_killed_evaluation_resumes_to_identical_bytes(trained, tmp_path, monkeypatch):
    ckpt, data = trained
    archs = arch_list_from_codes(SPACE.sample_unique(6, seed=4))
    ev = Evaluator.from_checkpoint(ckpt, data=data)
    ev.evaluate(archs, tmp_path / "full.json")
    assert not (tmp_path / "full.json.part").exists()

    ev2 = Evaluator.from_checkpoint(ckpt, data=data)
    real_score, calls = ev2.score, []

    def dying_score(code):
        if len(calls) == 4:
            raise KeyboardInterrupt  # killed while scoring the 5th arch
        calls.append(code)
        return real_score(code)

    monkeypatch.setattr(ev2, "score", dying_score)
    with pytest.raises(KeyboardInterrupt):
        ev2.evaluate(archs, tmp_path / "cut.json")
    part = tmp_path / "cut.json.part"
    assert len(part.read_text().splitlines()) == 1 + 4 and not (tmp_path / "cut.json").exists()  # header + 4
    with open(part, "a") as handle:
        handle.write('{"key": "arch5", "ar')  # torn line of a killed writer
    monkeypatch.setattr(ev2, "score", real_score)
    resumed_calls = []
    monkeypatch.setattr(ev2, "score", lambda code: resumed_calls.append(code) or real_score(code))
    ev2.evaluate(archs, tmp_path / "cut.json")
    assert len(resumed_calls) == 2
    assert (tmp_path / "cut.json").read_bytes() == (tmp_path / "full.json").read_bytes()


def test_data_is_prepared_once_per_run(trained, monkeypatch):
    ckpt, data = trained
    ev = Evaluator.from_checkpoint(ckpt, data=data)
    monkeypatch.setattr(evaluator_module, "load_dataset", lambda *a: pytest.fail("data reloaded per arch"))
    import paddle_supernet.data.batches as batches_module

    monkeypatch.setattr(batches_module, "fixed_batches", lambda *a, **k: pytest.fail("tensors rebuilt per arch"))
    for seed in range(3):
        ev.score(SPACE.sample(seed))


def _killed_at_arch2(ev, archs, out, monkeypatch):
    """Evaluate ``archs`` into ``out`` and die while scoring arch2: a part file with a header and arch1's row."""
    real_score = ev.score
    monkeypatch.setattr(ev, "score", lambda code: (_ for _ in ()).throw(KeyboardInterrupt) if code == archs["arch2"].arch
                        else real_score(code))
    with pytest.raises(KeyboardInterrupt):
        ev.evaluate(archs, out)


def test_part_file_from_another_list_checkpoint_or_settings_is_refused(trained, tmp_path, monkeypatch):
    ckpt, data = trained
    archs = arch_list_from_codes(SPACE.sample_unique(3, seed=4))
    _killed_at_arch2(Evaluator.from_checkpoint(ckpt, data=data), archs, tmp_path / "s.json", monkeypatch)
    part = (tmp_path / "s.json.part").read_bytes()
    others = {"arch list": (arch_list_from_codes(SPACE.sample_unique(3, seed=5)), []),
              "eval settings": (archs, ["eval.calib_images=16"]),
              "backend": (archs, ["eval.backend=inference"])}  # a key added later counts once off its default
    for what, (other_archs, overrides) in others.items():
        with pytest.raises(InputError, match=r"s.json.part: was written by another checkpoint, arch list, eval"):
            Evaluator.from_checkpoint(ckpt, overrides, data=data).evaluate(other_archs, tmp_path / "s.json")
        assert (tmp_path / "s.json.part").read_bytes() == part, what  # left as it was
    text = part.decode()
    (tmp_path / "s.json.part").write_text(text.rstrip("\n"))  # a complete last row without its newline
    Evaluator.from_checkpoint(ckpt, data=data).evaluate(archs, tmp_path / "s.json")
    assert b"\x00" not in (tmp_path / "s.json").read_bytes() and len(read_arch_file(tmp_path / "s.json")) == 3


def test_eval_cli_refuses_foreign_codes_and_bad_checkpoints(trained, tmp_path):
    ckpt, _ = trained
    bad_list = tmp_path / "list22.json"
    write_arch_file(bad_list, arch_list_from_codes([get_space("cvpr22_resnet48").largest()]))
    broken = tmp_path / "broken.pdparams"
    broken.write_bytes(ckpt.read_bytes()[:1000])
    for args, message in (
        (["--checkpoint", str(ckpt), "--archs", str(bad_list)], "list22.json: is a cvpr22_resnet48 arch list and the checkpoint"),
        (["--checkpoint", str(broken), "--archs", str(bad_list)], "broken.pdparams: corrupted or unreadable checkpoint"),
    ):
        out = tmp_path / "never.json"
        proc = subprocess.run([sys.executable, "tools/eval_submission.py", *args, "--out", str(out)], capture_output=True, text=True, timeout=120,
                              cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
        assert proc.returncode != 0
        assert message in proc.stderr or message in proc.stdout
        assert not out.exists()


@pytest.mark.parametrize("backend", ["inference", "shared_inference"])
def test_the_inference_backends_score_as_the_dygraph_path(trained, backend):
    ckpt, data = trained
    codes = [SPACE.sample(8), SPACE.largest(), SPACE.smallest(), SPACE.sample(9)]
    dygraph = Evaluator.from_checkpoint(ckpt, ["eval.score=neg_loss"], data=data)
    fast = Evaluator.from_checkpoint(ckpt, ["eval.score=neg_loss", f"eval.backend={backend}", "eval.threads=1"], data=data)
    for code in codes:
        assert fast.score(code) == pytest.approx(dygraph.score(code), abs=1e-5)
    fast_acc = Evaluator.from_checkpoint(ckpt, [f"eval.backend={backend}"], data=data)
    assert [fast_acc.score(c) for c in codes] == [Evaluator.from_checkpoint(ckpt, data=data).score(c) for c in codes]


def test_the_shared_backend_scores_in_code_order_and_writes_the_list_order_submission(trained, tmp_path):
    ckpt, data = trained
    archs = arch_list_from_codes(SPACE.sample_unique(5, seed=11))
    assert list(archs) != sorted(archs, key=lambda key: archs[key].arch)  # the orders differ
    Evaluator.from_checkpoint(ckpt, data=data).evaluate(archs, tmp_path / "dygraph.json")
    shared = Evaluator.from_checkpoint(ckpt, ["eval.backend=shared_inference"], data=data)
    scored = []
    original = shared.score
    shared.score = lambda code: scored.append(code) or original(code)
    shared.evaluate(archs, tmp_path / "shared.json")
    assert scored == sorted(entry.arch for entry in archs.values())
    assert (tmp_path / "shared.json").read_bytes() == (tmp_path / "dygraph.json").read_bytes()


@pytest.mark.parametrize("backend", ["inference", "shared_inference"])
def test_the_inference_backends_on_the_2022_space(tmp_path, backend):
    data = synthetic_data(n_val=40)
    cfg = tiny_config(["space=cvpr22_resnet48", "model.small_input=true", "model.width_scale=0.125",
                       "strategy.name=uniform", "eval.batch_size=16"])
    Trainer(cfg, tmp_path, data=data).fit()
    space = get_space("cvpr22_resnet48")
    dygraph = Evaluator.from_checkpoint(tmp_path / "checkpoint.pdparams", ["eval.score=neg_loss"], data=data)
    fast = Evaluator.from_checkpoint(tmp_path / "checkpoint.pdparams", ["eval.score=neg_loss", f"eval.backend={backend}"],
                                     data=data)
    for code in (space.sample(1), space.largest(), space.sample(2)):
        assert fast.score(code) == pytest.approx(dygraph.score(code), abs=1e-5)


def test_a_finished_submission_is_not_rescored_unless_anything_that_made_it_changed(trained, tmp_path, monkeypatch):
    ckpt, data = trained
    archs = arch_list_from_codes(SPACE.sample_unique(3, seed=6))
    out = tmp_path / "s.json"
    first = Evaluator.from_checkpoint(ckpt, data=data).evaluate(archs, out)
    again = Evaluator.from_checkpoint(ckpt, data=data)
    monkeypatch.setattr(again, "score", lambda code: pytest.fail("a finished submission was rescored"))
    assert again.evaluate(archs, out) == first
    rescored = []
    for what, overrides, arch_list in (("eval settings", ["eval.calib_images=16"], archs),
                                       ("arch list", [], arch_list_from_codes(SPACE.sample_unique(3, seed=7)))):
        ev = Evaluator.from_checkpoint(ckpt, overrides, data=data)
        real = ev.score
        monkeypatch.setattr(ev, "score", lambda code, real=real: rescored.append(what) or real(code))
        ev.evaluate(arch_list, tmp_path / f"{what}.json" if what == "arch list" else out)
    assert rescored.count("eval settings") == 3 and rescored.count("arch list") == 3
    Evaluator.from_checkpoint(ckpt, data=data).evaluate(archs, out)  # back to the first settings: rescored, same bytes
    out.write_text(out.read_text().replace("0.", "0.9", 1))  # an edited submission is never trusted
    edited = Evaluator.from_checkpoint(ckpt, data=data)
    calls = []
    real_score = edited.score
    monkeypatch.setattr(edited, "score", lambda code: calls.append(code) or real_score(code))
    assert edited.evaluate(archs, out) == first and len(calls) == 3


def test_a_part_file_row_from_elsewhere_is_refused_naming_the_line(trained, tmp_path, monkeypatch):
    import json

    ckpt, data = trained
    archs = arch_list_from_codes(SPACE.sample_unique(3, seed=8))
    _killed_at_arch2(Evaluator.from_checkpoint(ckpt, data=data), archs, tmp_path / "s.json", monkeypatch)
    part = tmp_path / "s.json.part"
    for row, problem in (({"key": "arch9", "arch": archs["arch1"].arch, "acc": 0.5}, "arch9 is not one of the archs"),
                         ({"key": "arch1", "arch": archs["arch1"].arch, "acc": 0.5}, "arch1 is scored twice"),
                         ({"key": "arch3", "arch": archs["arch3"].arch, "acc": float("nan")}, "the score of arch3 is not finite")):
        lines = part.read_text().splitlines()[:2]
        part.write_text("\n".join(lines + [json.dumps(row)]) + "\n")
        with pytest.raises(InputError, match=rf"s.json.part: eval, line 3: {problem}"):
            Evaluator.from_checkpoint(ckpt, data=data).evaluate(archs, tmp_path / "s.json")
        assert not (tmp_path / "s.json").exists()


def test_a_result_is_identified_by_the_weights_and_data_it_was_made_from(trained, tmp_path, monkeypatch):
    ckpt, data = trained
    archs = arch_list_from_codes(SPACE.sample_unique(3, seed=8))
    out = tmp_path / "s.json"
    Evaluator.from_checkpoint(ckpt, data=data).evaluate(archs, out)
    # another checkpoint of the same config and step, other weights (e.g. trained again with other data)
    other = tmp_path / "other" / "checkpoint.pdparams"
    Trainer(tiny_config(["eval.batch_size=16"]), other.parent, data=synthetic_data(n_val=40, seed=5)).fit()
    rescored = []
    ev = Evaluator.from_checkpoint(other, data=data)
    real = ev.score
    monkeypatch.setattr(ev, "score", lambda code: rescored.append(code) or real(code))
    ev.evaluate(archs, out)
    assert len(rescored) == 3
    # the same checkpoint on other images: rescored, and a part file written on the first images is refused
    moved = synthetic_data(n_val=40, seed=9)
    _killed_at_arch2(Evaluator.from_checkpoint(ckpt, data=data), archs, tmp_path / "p.json", monkeypatch)
    with pytest.raises(InputError, match=r"p.json.part: was written by another checkpoint, arch list, eval"):
        Evaluator.from_checkpoint(ckpt, data=moved).evaluate(archs, tmp_path / "p.json")
    again = Evaluator.from_checkpoint(ckpt, data=moved)
    monkeypatch.setattr(again, "score", lambda code: rescored.append(code) or 0.5)
    again.evaluate(archs, out)
    assert len(rescored) == 6


def test_a_code_the_supernet_cannot_run_is_refused_before_anything_is_written(tmp_path):
    r48 = get_space("cvpr22_resnet48")
    cfg = tiny_config(["space=cvpr22_resnet48", "model.small_input=true", "model.width_scale=0.125",
                       "schedule.epochs=1", "strategy={name: fixed}"])
    data = synthetic_data()
    Trainer(cfg, tmp_path / "run", data=data).fit()
    good = r48.largest()
    untied = good[:7] + "2" + good[8:]  # block 1's output (conv2) differs from the stem's, its tied width
    archs = {"arch1": arch_list_from_codes([good])["arch1"], "arch2": arch_list_from_codes([untied])["arch1"]}
    ev = Evaluator.from_checkpoint(tmp_path / "run" / "checkpoint.pdparams", data=data)
    with pytest.raises(InputError, match=r"arch2: arch code .* is outside the test distribution"):
        ev.evaluate(archs, tmp_path / "s.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_the_dygraph_loss_is_not_capped_and_equals_the_inference_backends():
    """Found by the rehearsal (issue 27): Paddle's F.cross_entropy caps a sample's loss at 64, the
    inference backends' float64 log-softmax does not, so neg_loss scores of a badly wrong arch differed."""
    import numpy as np
    import paddle

    from paddle_supernet.evaluator import accuracy_and_loss

    logits = np.array([[90.0, 0.0, -5.0], [0.0, 2.0, 1.0], [3.0, 1.0, 0.5]], dtype="float32")
    labels = np.array([2, 1, 0])

    class Fixed(paddle.nn.Layer):
        def forward(self, x):
            return paddle.to_tensor(logits)

    acc, loss = accuracy_and_loss(Fixed(), [(paddle.zeros([3, 1]), paddle.to_tensor(labels))])
    z = logits.astype(np.float64)
    expected = np.mean([np.log(np.exp(z[i]).sum()) - z[i, labels[i]] for i in range(3)])
    assert acc == 2 / 3 and loss == pytest.approx(expected, rel=1e-12) and loss > 64 / 3
