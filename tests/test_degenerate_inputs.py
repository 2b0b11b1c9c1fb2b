"""Degenerate and malformed inputs: one clear line each, nothing written."""
import json
import sys
from pathlib import Path

import pytest

from paddle_supernet.cli import main
from paddle_supernet.engine.config import load_config
from paddle_supernet.errors import InputError


def _list(path: Path, accs: list[float]):
    codes = ["4-4-4-4-4-4-4-4-4-4-4-4-4-4-4-4-4-4-4-4", "8-4-4-4-4-4-4-4-4-4-4-4-4-4-4-4-4-4-4-4",
             "8-8-4-4-4-4-4-4-4-4-4-4-4-4-4-4-4-4-4-4", "8-8-8-4-4-4-4-4-4-4-4-4-4-4-4-4-4-4-4-4"]
    path.write_text(json.dumps({f"arch{i + 1}": {"acc": a, "arch": c} for i, (a, c) in enumerate(zip(accs, codes))}))
    return str(path)


@pytest.mark.parametrize("argv, message", [
    (["sample", "--space", "cvpr21_resnet20", "--n", "3", "--seed", "-1", "--out", "x.json"],
     "argument --seed: must be an integer >= 0, got '-1'"),
    (["sample", "--space", "cvpr21_resnet20", "--n", "100000000", "--out", "x.json"],
     r"argument --n: must be an integer in \[1, 1000000\]"),
    (["sample", "--space", "cvpr22_resnet48", "--n", "3", "--width-scale", "nan", "--out", "x.json"],
     "argument --width-scale: must be a finite number > 0, got 'nan'"),
    (["sample", "--space", "cvpr22_resnet48", "--n", "3", "--width-scale", "0", "--out", "x.json"],
     "argument --width-scale: must be a finite number > 0"),
    (["sample", "--space", "cvpr22_resnet48", "--n", "3", "--image-size", "0", "--out", "x.json"],
     "argument --image-size: must be an integer >= 1"),
    (["sample", "--space", "cvpr22_resnet48", "--n", "3", "--spread", "macs", "--small-input", "--out", "x.json"],
     "--spread: sampled archs are spread by the official network's sizes"),
    (["sample", "--space", "cvpr21_resnet20", "--n", "3", "--out", ""], "--out: must be a path, got ''"),
    (["standalone", "--config", "c.yaml", "--archs", "a.json", "--out", "o.json", "--workers", "0"],
     "argument --workers: must be an integer >= 1, got '0'"),
    (["noise", "a.json", "./a.json"], "a.json: is given twice"),
    (["noise", "a.json", "flat.json"], "flat.json: all 4 accuracies are equal"),
    (["report", "--gt", "a.json", "--seeds", "a.json", "b.json", "--space", "cvpr21_resnet20", "--out-dir", "r",
      "--submission", "x=a.json", "--submission", "x=b.json"], "--submission: two submissions are named 'x'"),
    (["report", "--gt", "a.json", "--seeds", "a.json", "b.json", "--space", "cvpr21_resnet20", "--out-dir", "a.json"],
     "--out-dir: is a file"),
])
def test_one_clear_error_and_nothing_written(tmp_path, monkeypatch, capsys, argv, message):
    import re

    monkeypatch.chdir(tmp_path)
    _list(tmp_path / "a.json", [0.1, 0.2, 0.3, 0.4])
    _list(tmp_path / "b.json", [0.2, 0.1, 0.4, 0.3])
    _list(tmp_path / "flat.json", [0.5] * 4)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(SystemExit) if message.startswith("argument") else _no_raise():
        assert main(argv) == 2
    assert re.search(message, capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


class _no_raise:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_config_values_of_a_components_wrong_type_and_modules_that_exit(tmp_path, monkeypatch):
    for override, message in (("strategy.alpha=abc", "strategy.alpha: must be a number, got 'abc'"),
                              ("strategy.k=2.5", "strategy.k: must be an integer, got 2.5"),
                              ("strategy.teacher_ce=1", "strategy.teacher_ce: must be true or false, got 1")):
        with pytest.raises(InputError, match=message):
            load_config(None, [override])
    (tmp_path / "exits_on_import.py").write_text("import sys\nsys.exit(0)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(InputError, match=r"custom_imports: cannot import module 'exits_on_import': it called sys.exit\(0\)"):
        load_config(None, ["custom_imports=[exits_on_import]"])
    sys.modules.pop("exits_on_import", None)


def test_kd_needs_a_subnet_to_train():
    from paddle_supernet.spaces import get_space
    from paddle_supernet.strategies import build_strategy

    with pytest.raises(InputError, match="strategy.k: must be an integer >= 1"):
        build_strategy({"name": "kd", "k": 0}, get_space("cvpr21_resnet20"), seed=0)


def test_a_checkpoint_without_its_meta_is_named_not_a_traceback(tmp_path, capsys):
    import paddle

    paddle.save({"format": "paddle_supernet.checkpoint.v1", "model": {}}, str(tmp_path / "c.pdparams"))
    _list(tmp_path / "a.json", [0.1, 0.2, 0.3, 0.4])
    assert main(["evaluate", "--checkpoint", str(tmp_path / "c.pdparams"), "--archs", str(tmp_path / "a.json"),
                 "--out", str(tmp_path / "s.json")]) == 2
    assert "c.pdparams: damaged checkpoint: no meta section" in capsys.readouterr().err


def test_import_is_accepted_after_the_subcommand_too(tmp_path, capsys):
    out = tmp_path / "x.json"
    assert main(["sample", "--space", "plain_cnn", "--n", "2", "--out", str(out), "--import", "examples.plain_cnn"]) == 0
    assert len(json.loads(out.read_text())) == 2


def test_a_strategys_or_the_supernets_own_check_names_the_config_file(tmp_path, capsys):
    for text, message in (("strategy: {name: distill, alpha: 1.5}\n", "c.yaml: strategy.alpha: must be in [0, 1], got 1.5"),
                          ("model: {branches: nonsense}\n", "c.yaml: model.branches: unknown branch scheme 'nonsense'")):
        (tmp_path / "c.yaml").write_text("name: t\n" + text)
        assert main(["train", "--config", str(tmp_path / "c.yaml"), "--run-dir", str(tmp_path / "run")]) == 2
        assert message in capsys.readouterr().err
