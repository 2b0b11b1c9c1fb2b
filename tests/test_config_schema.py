"""Every config value is type- and range-checked from one declarative schema: one clear line, no traceback."""
import pytest

from paddle_supernet.cli import main
from paddle_supernet.engine.config import load_config
from paddle_supernet.errors import InputError


@pytest.mark.parametrize("override, message", [
    ("data.train_subset=-5", "data.train_subset: must be an integer >= 1 or null, got -5"),
    ("optimizer.lr=0", "optimizer.lr: must be a number > 0, got 0"),
    ("optimizer.lr=-0.1", "optimizer.lr: must be a number > 0"),
    ("optimizer.lr=fast", "optimizer.lr: must be a number > 0, got 'fast'"),
    ("data.batch_size=0", "data.batch_size: must be an integer >= 1, got 0"),
    ("data.augment.probability=1.5", r"data.augment.probability: must be a number in \[0, 1\], got 1.5"),
    ("eval.calib_images=0", "eval.calib_images: must be an integer >= 1, got 0"),
    ("seed=abc", "seed: must be an integer >= 0, got 'abc'"),
    ("data.mean=[0.5, 0.5]", "data.mean: must be a list of 3 numbers"),
    ("model.width_map={3: 5}", "model.width_map: key 3 is not a channel option of the space"),
    ("model.width_map={4: 0}", "model.width_map: width for option 4 must be a positive integer"),
    ("model.shortcut=sometimes", "model.shortcut: must be one of projection, official"),
    ("data.crop_scale=[0.9, 0.1]", "data.crop_scale: must be \\[low, high\\] with low <= high"),
    ("log.visualdl=maybe", "log.visualdl: must be true or false, got 'maybe'"),
    ("optimizer.lr=.inf", "optimizer.lr: must be a number > 0, got inf"),
    ("optimizer.weight_decay=-.inf", r"optimizer.weight_decay: must be a number >= 0, got -inf"),
    ("name=../../x", r"name: must be a single folder name .*, got '../../x'"),
    ("name=/abs", r"name: must be a single folder name .*, got '/abs'"),
    ("name=.", r"name: must be a single folder name .*, got '.'"),
])
def test_bad_values_are_refused_naming_the_key(override, message):
    with pytest.raises(InputError, match=message):
        load_config(None, [override])


def test_unparsable_set_and_bad_base_are_one_line(tmp_path, capsys):
    with pytest.raises(InputError, match=r"--set data.mean: value '\[1,' is not valid YAML"):
        load_config(None, ["data.mean=[1,"])
    (tmp_path / "c.yaml").write_text("_base_: 5\n")
    with pytest.raises(InputError, match=r"c.yaml: _base_: must be a config file name or a list of them, got 5"):
        load_config(tmp_path / "c.yaml")
    assert main(["train", "--config", str(tmp_path / "c.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_config_errors_come_before_paddle_is_imported():
    import subprocess
    import sys

    code = ("import sys\nfrom paddle_supernet.cli import main\n"
            "rc = main(['train', '--config', 'configs/quickstart_fmnist_r20.yaml', '--set', 'seed=abc'])\n"
            "print(rc, 'paddle' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=__import__("pathlib").Path(__file__).resolve().parents[1])
    assert out.stdout.split() == ["2", "False"]
    assert out.stderr.strip().endswith("seed: must be an integer >= 0, got 'abc'") and out.stderr.count("\n") == 1


def test_commands_that_import_paddle_print_only_their_own_lines(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "bad.pdparams"
    bad.write_bytes(b"not a checkpoint")
    out = subprocess.run([sys.executable, "-m", "paddle_supernet", "evaluate", "--checkpoint", str(bad), "--archs",
                          "x.json", "--out", str(tmp_path / "y.json")], capture_output=True, text=True)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "bad.pdparams: corrupted or unreadable checkpoint" in out.stderr


def test_a_batch_larger_than_the_training_set_is_one_line(tmp_path, capsys):
    from helpers import TINY, write_tiny_cifar100

    write_tiny_cifar100(tmp_path, n_train=20, n_test=8)
    config = tmp_path / "c.yaml"
    config.write_text(f"data: {{name: cifar100, root: {tmp_path}, batch_size: 64}}\n")
    argv = ["train", "--config", str(config), "--run-dir", str(tmp_path / "r")]
    argv += [a for o in TINY if not o.startswith("data.batch_size") for a in ("--set", o)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "data.batch_size: is 64, more than the 20 training images" in err and err.count("\n") == 1
    assert not (tmp_path / "r").exists()
