"""The leaderboard tool: rows resume after a kill without retraining or rescoring what is finished; the table."""
from pathlib import Path

import numpy as np
import pytest

from paddle_supernet.io.challenge_json import ArchEntry, read_arch_file, write_arch_file
from paddle_supernet.leaderboard import LeaderRow, leaderboard_markdown, run_rows, train_seconds
from paddle_supernet.spaces import get_space

REPO = Path(__file__).resolve().parents[1]
SPACE = get_space("cvpr21_resnet20")
pytestmark = pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz").exists(),
                                reason="needs Debian's dataset-fashion-mnist (bash tools/install.sh --data)")


def _tiny_rows(tmp: Path) -> list[LeaderRow]:
    archs = {f"arch{i + 1}": ArchEntry(SPACE.sample(0, 0, i, 0), 0.0) for i in range(8)}
    write_arch_file(tmp / "archs.json", archs)
    base = ("space: cvpr21_resnet20\ndata: {name: fashion_mnist, image_size: 8, train_subset: 256, batch_size: 128,\n"
            "  augment: {crop_padding: 0, flip: true, brightness: 0.0, contrast: 0.0, rotation: 0.0}}\n"
            "schedule: {epochs: 1, warmup_steps: 0}\nlog: {visualdl: false}\n"
            f"eval: {{archs: {tmp / 'archs.json'}, calib_images: 64, batch_size: 500, val_subset: 200}}\n")
    (tmp / "spos.yaml").write_text(base + "strategy: {name: uniform, k: 1}\n")
    (tmp / "pre.yaml").write_text(base + "strategy: {name: fixed}\n")
    (tmp / "chain_two.yaml").write_text("name: two\nstages:\n  - {name: pre, config: pre.yaml}\n"
                                        "  - {name: spos, config: spos.yaml}\nevaluate: [spos]\n")
    return [LeaderRow("spos", "SPOS", str(tmp / "spos.yaml")), LeaderRow("two", "two stages", str(tmp / "chain_two.yaml"))]


def test_a_killed_row_resumes_without_retraining_and_finished_rows_are_not_rescored(tmp_path):
    rows, root = _tiny_rows(tmp_path), tmp_path / "runs"
    assert [code for *_, code in run_rows(rows, [0], root, REPO)] == [0, 0]
    spos_sub, chain_sub = (row.submission(root, 0, REPO) for row in rows)
    before = spos_sub.read_bytes(), spos_sub.stat().st_mtime_ns
    chain_sub.unlink()  # killed after training, before its scores were written
    (root / "two_seed0.log").write_text("")
    kept = tmp_path / "kept"
    assert run_rows(rows, [0], root, REPO, kept=kept) == [("two", 0, 0)]  # the finished row is not even started
    log = (root / "two_seed0.log").read_text()
    assert "is already finished" in log and "[train] 1/" not in log  # no training step ran again
    assert chain_sub.exists() and (spos_sub.read_bytes(), spos_sub.stat().st_mtime_ns) == before
    assert train_seconds(rows[1], root, 0, REPO) > train_seconds(rows[0], root, 0, REPO) > 0  # two stages
    for row, sub in zip(rows, (spos_sub, chain_sub)):  # both kept, with their training seconds beside them
        assert row.kept(kept, 0).read_bytes() == sub.read_bytes()
        assert row.kept(kept, 0).with_suffix(".seconds").read_text() == f"{train_seconds(row, root, 0, REPO):.1f}\n"


def test_each_finished_job_is_kept_at_once_and_a_fresh_checkout_runs_only_jobs_not_kept(tmp_path, monkeypatch,
                                                                                        capsys):
    import paddle_supernet.leaderboard as leaderboard

    rows, root, kept, ran = _tiny_rows(tmp_path), tmp_path / "runs", tmp_path / "kept", []

    def job(argv, **kwargs):  # a finished job: its submission (no checkpoint, so no seconds)
        run_dir = Path(argv[argv.index("--run-root" if "chain" in argv else "--run-dir") + 1])
        row = next(r for r in rows if run_dir.name.startswith(r.name))
        assert all(r.kept(kept, 0).exists() for r in rows if r.name in ran)  # earlier jobs kept before this one ends
        ran.append(row.name)
        sub = row.submission(run_dir.parent, 0, REPO)
        sub.parent.mkdir(parents=True, exist_ok=True)
        sub.write_text(f"{row.name}\n")
        return 0

    monkeypatch.setattr(leaderboard.subprocess, "call", job)
    assert run_rows(rows, [0], root, REPO, workers=1, kept=kept) == [("spos", 0, 0), ("two", 0, 0)]
    assert [row.kept(kept, 0).read_text() for row in rows] == ["spos\n", "two\n"]
    out = capsys.readouterr().out  # a line per job, then the whole run's progress with its rate and ETA
    assert "[leaderboard] spos seed 0: done\n[leaderboard] 1/2 (50.0%)" in out and "[leaderboard] 2/2 (100.0%)" in out
    assert not rows[0].kept(kept, 0).with_suffix(".seconds").exists()
    ran.clear()
    rows[1].kept(kept, 0).unlink()
    assert run_rows(rows, [0], tmp_path / "fresh", REPO, workers=1, kept=kept) == [("two", 0, 0)] and ran == ["two"]
    assert "[leaderboard] 2/2 (100.0%)" in capsys.readouterr().out  # the kept job counts as done


def test_the_table_compares_every_row_with_the_reference(tmp_path):
    rng = np.random.default_rng(0)
    codes = [SPACE.sample(0, 0, i, 0) for i in range(20)]
    truth = rng.normal(size=20)
    gt = {f"arch{i + 1}": ArchEntry(c, float(t)) for i, (c, t) in enumerate(zip(codes, truth))}
    write_arch_file(tmp_path / "gt.json", gt)
    paths = {}
    for s in range(2):
        write_arch_file(tmp_path / f"gt.seed{s}.json", {k: ArchEntry(e.arch, e.acc + rng.normal(0, .3)) for k, e in gt.items()})
    for label, noise in (("good", 0.1), ("ref", 1.0)):
        paths[label] = []
        for s in range(2):
            path = tmp_path / f"{label}{s}.json"
            write_arch_file(path, {k: ArchEntry(e.arch, e.acc + rng.normal(0, noise)) for k, e in gt.items()})
            paths[label].append(str(path))
    table = leaderboard_markdown(paths, str(tmp_path / "gt.json"), [str(tmp_path / f"gt.seed{s}.json") for s in range(2)],
                                 "cvpr21_resnet20", 10, "ref", {"good": [60.0, 120.0]}, {"good": "a note"}, resamples=200)
    lines = {line.split(" | ")[0]: line for line in table.splitlines()}
    assert "| good (a note) | 2 |" in table and "| 1.5 |" in lines["| good (a note)"]
    assert lines["| good (a note)"].endswith("| Kendall better |") or "Kendall better" in lines["| good (a note)"]
    assert "(reference)" in lines["| ref"] and "| params proxy | - |" in table and "seed-to-seed ceiling" in table
    # the noise ceiling from the two seeds, computed here: reliability of their mean, then Greiner's relation
    a, b = (np.array([read_arch_file(tmp_path / f"gt.seed{s}.json")[k].acc for k in gt]) for s in range(2))
    sigma_seed2 = np.var(a - b, ddof=1) / 2
    sigma_arch2 = max(np.var((a + b) / 2, ddof=1) - sigma_seed2 / 2, 0)
    rho = sigma_arch2 / (sigma_arch2 + sigma_seed2)
    reliability = 2 * rho / (1 + rho)
    ceiling = next(line for key, line in lines.items() if key.startswith("| noise ceiling")).split(" | ")
    assert ceiling[2:4] == [f"{2 / np.pi * np.arcsin(np.sqrt(reliability)):.3f}", f"{np.sqrt(reliability):.3f}"]


def test_the_rows_against_the_size_proxies(tmp_path):
    from scipy import stats

    from paddle_supernet.leaderboard import proxy_markdown

    rng = np.random.default_rng(2)
    codes = [SPACE.sample(0, 0, i, 0) for i in range(30)]
    params = np.array([SPACE.params(c) for c in codes], float)
    truth = np.log(params) + rng.normal(0, 0.3, 30)  # size explains much, not all
    gt = {f"arch{i + 1}": ArchEntry(c, float(t)) for i, (c, t) in enumerate(zip(codes, truth))}
    write_arch_file(tmp_path / "gt.json", gt)
    seeds = []
    for s in range(2):  # a ranker that knows the truth well: it beats counting parameters
        scores = truth + rng.normal(0, 0.05, 30)
        seeds.append(scores)
        write_arch_file(tmp_path / f"good{s}.json", {k: ArchEntry(e.arch, float(v)) for (k, e), v in zip(gt.items(), scores)})
    table = proxy_markdown({"good": [str(tmp_path / f"good{s}.json") for s in range(2)]}, str(tmp_path / "gt.json"),
                           "cvpr21_resnet20", 10, resamples=200)
    header, _, line = table.splitlines()
    assert header.startswith("| row | beyond size [95%] | Kendall - params proxy [95%] | Kendall - MACs proxy [95%] | "
                             "beyond size - params")
    cells = line.split(" | ")
    macs = [get_space("cvpr21_resnet20", num_classes=10).macs(c) for c in codes]
    design = np.column_stack([np.ones(30), np.log([get_space("cvpr21_resnet20", num_classes=10).params(c) for c in codes]),
                              np.log(macs)])

    def residual(y):  # what log params and log MACs leave unexplained, by least squares
        return y - design @ np.linalg.lstsq(design, y, rcond=None)[0]

    partial = np.mean([np.corrcoef(residual(s), residual(truth))[0, 1] for s in seeds])
    assert cells[1].startswith(f"{partial:+.3f} [") and "beyond size above 0" in cells[-1]
    cells = cells[1:]
    counted = [get_space("cvpr21_resnet20", num_classes=10).params(c) for c in codes]  # the table's 10 classes
    expected = np.mean([stats.kendalltau(s, truth)[0] for s in seeds]) - stats.kendalltau(counted, truth)[0]
    assert cells[1].startswith(f"{expected:+.3f} [")  # the estimate, computed here independently
    assert "Kendall better than params" in cells[-1] and "beyond size better than MACs" in cells[-1]
