"""No output over an input: every command refuses it before any work, and the input stays as it was."""
from pathlib import Path

import pytest

from paddle_supernet.cli import main

ARCHS = '{"arch1": {"acc": 0.0, "arch": "16-4-12-16-8-16-16-24-12-8-16-4-32-52-52-52-20-40-8-44"}}'


@pytest.mark.parametrize("argv, flag, other", [
    (["evaluate", "--checkpoint", "ck.pdparams", "--archs", "a.json", "--out", "a.json"], "--out", "--archs"),
    (["evaluate", "--checkpoint", "ck.pdparams", "--archs", "a.json", "--out", "ck.pdparams"], "--out", "--checkpoint"),
    (["evaluate", "--checkpoint", "ck.pdparams", "--archs", "a.json", "--out", "./sub/../gt.json", "--gt", "gt.json"],
     "--out", "--gt"),
    (["export-full", "--checkpoint", "ck.pdparams", "--out", "ck.pdparams"], "--out", "--checkpoint"),
    (["proxy", "--space", "cvpr21_resnet20", "--proxy", "params", "--archs", "a.json", "--out", "a.json"], "--out", "--archs"),
    (["sample", "--space", "cvpr21_resnet20", "--n", "1", "--from", "a.json", "--out", "a.json"], "--out", "--from"),
    (["merge", "a.json", "b.json", "--out", "b.json"], "--out", "a part file"),
    (["standalone", "--config", "c.yaml", "--archs", "a.seed1.json", "--out", "a.json", "--seeds", "0", "1"],
     "its seed 1 file", "--archs"),
    (["report", "--gt", "out/report.md", "--seeds", "a.json", "b.json", "--space", "cvpr21_resnet20", "--out-dir", "out"],
     "--out-dir", "--gt"),
])
def test_an_output_that_is_an_input_is_refused_before_any_work(tmp_path, monkeypatch, capsys, argv, flag, other):
    monkeypatch.chdir(tmp_path)
    for name in ("a.json", "b.json", "gt.json", "a.seed1.json"):
        Path(name).write_text(ARCHS)
    Path("ck.pdparams").write_bytes(b"not read")
    Path("c.yaml").write_text("name: x\n")
    (tmp_path / "out").mkdir()
    Path("out/report.md").write_text(ARCHS)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{flag}: is also {other} (an input of this command); writing it would overwrite that input" in err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("export, message", [
    ("runs/x/checkpoint.pdparams", "checkpoint.export_full: is the run's own checkpoint"),
    ("c.yaml", "checkpoint.export_full: is also the config file"),
])
def test_a_run_that_would_export_over_its_own_files_is_refused(tmp_path, monkeypatch, capsys, export, message):
    monkeypatch.chdir(tmp_path)
    Path("c.yaml").write_text(f"name: x\nstrategy: {{name: fixed}}\ncheckpoint: {{export_full: {export}}}\n")
    before = Path("c.yaml").read_bytes()
    assert main(["train", "--config", "c.yaml", "--run-dir", "runs/x"]) == 2
    assert message in capsys.readouterr().err
    assert Path("c.yaml").read_bytes() == before and not Path("runs").exists()


def test_every_check_comes_before_the_work(tmp_path, monkeypatch, capsys):
    from paddle_supernet.engine.trainer import Trainer

    import sys
    sys.path.insert(0, str(Path(__file__).parent))
    from helpers import synthetic_data, tiny_config

    monkeypatch.chdir(tmp_path)
    ckpt = Trainer(tiny_config(["strategy={name: fixed}", "schedule.epochs=1"]), tmp_path / "run",
                   data=synthetic_data()).fit()
    Path("a.json").write_text(ARCHS)
    r48 = '{"arch1": {"acc": 0.0, "arch": "1558511111111111111111111111111111111111111111111111"}}'
    Path("r48.json").write_text(r48)
    for gt, message in (("missing.json", "missing.json: file not found"),
                        ("r48.json", "r48.json: is a cvpr22_resnet48 arch list and the checkpoint"),
                        ("a.json", "a.json: --gt: shares fewer than 3 archs with --archs")):
        assert main(["evaluate", "--checkpoint", str(ckpt), "--archs", "a.json", "--out", "s.json", "--gt", gt]) == 2
        assert message in capsys.readouterr().err and not Path("s.json.part").exists()
    (tmp_path / "c21.yaml").write_text("strategy: {name: fixed}\n")
    (tmp_path / "c22.yaml").write_text("space: cvpr22_resnet48\nmodel: {small_input: true, width_scale: 0.125}\n"
                                       "strategy: {name: fixed}\n")
    (tmp_path / "chain.yaml").write_text("name: x\nstages:\n  - {name: a, config: c21.yaml}\n  - {name: b, config: c22.yaml}\n")
    assert main(["chain", "--chain", "chain.yaml", "--run-root", "runs"]) == 2
    assert "c22.yaml: space: is a cvpr22_resnet48 stage after a cvpr21_resnet20 one" in capsys.readouterr().err
    assert not Path("runs").exists()
