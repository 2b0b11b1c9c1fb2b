from paddle_supernet.cli import main
from paddle_supernet.io.challenge_json import read_arch_file
from paddle_supernet.spaces import get_space

from helpers import TINY, write_tiny_cifar100


def test_run_trains_evaluates_and_reports(tmp_path, capsys):
    write_tiny_cifar100(tmp_path, n_train=64, n_test=32)
    config = tmp_path / "c.yaml"
    config.write_text(f"name: tiny\ndata: {{name: cifar100, root: {tmp_path}}}\n")
    run_dir = tmp_path / "run"
    argv = ["run", "--config", str(config), "--run-dir", str(run_dir)] + [a for o in TINY for a in ("--set", o)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    space = get_space("cvpr21_resnet20")
    archs = read_arch_file(run_dir / "archs.json", space)
    submission = read_arch_file(run_dir / "submission.json", space)
    assert len(archs) == 6 and [e.arch for e in submission.values()] == [e.arch for e in archs.values()]
    assert all(0.0 <= e.acc <= 1.0 for e in submission.values())
    assert (run_dir / "proxy_params.json").exists() and (run_dir / "config.yaml").exists()
    assert "| supernet vs params proxy | 6 |" in out and "| supernet vs macs proxy | 6 |" in out
    # running again finds everything done and writes the same submission
    before = (run_dir / "submission.json").read_bytes()
    assert main(argv) == 0
    assert "already finished" in capsys.readouterr().out
    assert (run_dir / "submission.json").read_bytes() == before


def test_bad_config_key_is_one_clear_error(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("schedule: {epoch: 3}\n")
    assert main(["train", "--config", str(config), "--run-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert "c.yaml: schedule.epoch: unknown config key" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_run_reports_against_a_stand_alone_ground_truth(tmp_path, capsys):
    from paddle_supernet.io.challenge_json import arch_list_from_codes, with_scores, write_arch_file
    from paddle_supernet.metrics import ranking_metrics

    write_tiny_cifar100(tmp_path, n_train=64, n_test=32)
    space = get_space("cvpr21_resnet20")
    archs = arch_list_from_codes(space.sample_unique(6, seed=3))
    write_arch_file(tmp_path / "archs.json", archs)
    sizes = {k: float(space.params(e.arch)) for k, e in archs.items()}
    for name, noise in (("gt.seed0.json", 1.0), ("gt.seed1.json", -1.0), ("gt.json", 0.0)):
        write_arch_file(tmp_path / name, with_scores(archs, {k: v + noise * (i % 2) for i, (k, v) in
                                                             enumerate(sizes.items())}))
    config = tmp_path / "c.yaml"
    config.write_text(f"name: tiny\ndata: {{name: cifar100, root: {tmp_path}}}\n"
                      f"eval: {{archs: {tmp_path / 'archs.json'}, gt: {tmp_path / 'gt.json'}}}\n")
    argv = ["run", "--config", str(config), "--run-dir", str(tmp_path / "run")] + [a for o in TINY for a in ("--set", o)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "against the stand-alone ground truth" in out
    expected = ranking_metrics(read_arch_file(tmp_path / "run" / "submission.json"), read_arch_file(tmp_path / "gt.json"))
    assert f"| supernet | 6 | {expected['kendall']:.4f} |" in out
    assert "| params proxy | 6 | 1.0000 |" in out and "| seed-to-seed ceiling | 6 |" in out
