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
