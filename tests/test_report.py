import numpy as np

from paddle_supernet.cli import main
from paddle_supernet.io.challenge_json import ArchEntry, read_arch_file, write_arch_file
from paddle_supernet.metrics import ranking_metrics
from paddle_supernet.proxies import proxy_submission
from paddle_supernet.spaces import get_space


def test_report_has_submissions_proxies_ceiling_and_plots(tmp_path, capsys):
    space = get_space("cvpr21_resnet20", num_classes=10)
    codes = space.sample_unique(30, seed=0)
    rng = np.random.default_rng(0)
    truth = np.array([space.params(c) for c in codes], float) / 3e5 + rng.normal(0, 0.05, 30)
    files = {}
    for name, values in {"s0": truth + rng.normal(0, 0.02, 30), "s1": truth + rng.normal(0, 0.02, 30),
                         "sub": truth + rng.normal(0, 0.1, 30)}.items():
        files[name] = tmp_path / f"{name}.json"
        write_arch_file(files[name], {f"arch{i + 1}": ArchEntry(c, float(v)) for i, (c, v) in enumerate(zip(codes, values))})
    gt_entries = {f"arch{i + 1}": ArchEntry(c, float((a + b) / 2)) for i, (c, a, b) in enumerate(
        zip(codes, [e.acc for e in read_arch_file(files["s0"]).values()], [e.acc for e in read_arch_file(files["s1"]).values()]))}
    write_arch_file(tmp_path / "gt.json", gt_entries)
    out_dir = tmp_path / "report"
    assert main(["report", "--gt", str(tmp_path / "gt.json"), "--seeds", str(files["s0"]), str(files["s1"]),
                 "--space", "cvpr21_resnet20", "--num-classes", "10", "--submission", f"my method={files['sub']}",
                 "--out-dir", str(out_dir)]) == 0
    text = (out_dir / "report.md").read_text()
    gt = read_arch_file(tmp_path / "gt.json")
    expected = {
        "my method": ranking_metrics(read_arch_file(files["sub"]), gt),
        "params proxy": ranking_metrics(proxy_submission(space, gt, "params"), gt),
        "MACs proxy": ranking_metrics(proxy_submission(space, gt, "macs"), gt),
        "seed-to-seed ceiling": ranking_metrics(read_arch_file(files["s0"]), read_arch_file(files["s1"])),
    }
    for name, m in expected.items():
        assert f"| {name} | 30 | {m['kendall']:.4f} | {m['pearson']:.4f} |" in text
    # "Pearson beyond size": residuals of both after a least-squares fit on [1, log params, log MACs]
    sizes = np.log([[space.params(e.arch), space.macs(e.arch)] for e in gt.values()])
    design = np.column_stack([np.ones(30), sizes])
    sub_acc = np.array([e.acc for e in read_arch_file(files["sub"]).values()])
    gt_acc = np.array([e.acc for e in gt.values()])
    res = [v - design @ np.linalg.solve(design.T @ design, design.T @ v) for v in (sub_acc, gt_acc)]
    beyond = np.corrcoef(res[0], res[1])[0, 1]
    assert f"| {expected['my method']['top10_overlap']:.3f} | {beyond:.4f} |" in text
    png = out_dir / "scatter_my_method.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "![my method](scatter_my_method.png)" in text


def test_report_band_table_restricts_every_row_to_the_middle_archs(tmp_path):
    from paddle_supernet.report import band_keys

    space = get_space("cvpr21_resnet20", num_classes=10)
    codes = space.sample_spread(21, seed=1, spacing="log")
    rng = np.random.default_rng(1)
    files = {}
    for name in ("gt", "s0", "s1", "sub"):
        files[name] = tmp_path / f"{name}.json"
        write_arch_file(files[name], {f"arch{i + 1}": ArchEntry(c, float(v)) for i, (c, v) in
                                      enumerate(zip(codes, rng.uniform(0.5, 0.9, 21)))})
    gt = read_arch_file(files["gt"])
    keys = band_keys(gt, space, 0.25, 0.75)
    # codes are in ascending MACs order, so the band is ranks 5..15 of 0..20
    assert keys == [f"arch{i + 1}" for i in range(5, 16)]
    out_dir = tmp_path / "report"
    assert main(["report", "--gt", str(files["gt"]), "--seeds", str(files["s0"]), str(files["s1"]),
                 "--space", "cvpr21_resnet20", "--num-classes", "10", "--submission", f"sub={files['sub']}",
                 "--out-dir", str(out_dir), "--band", "0.25:0.75"]) == 0
    text = (out_dir / "report.md").read_text()
    middle = {k: gt[k] for k in keys}
    s1_middle = {k: v for k, v in read_arch_file(files["s1"]).items() if k in keys}
    expected = {
        "sub": ranking_metrics(read_arch_file(files["sub"]), middle),
        "params proxy": ranking_metrics(proxy_submission(space, middle, "params"), middle),
        "seed-to-seed ceiling": ranking_metrics(read_arch_file(files["s0"]), s1_middle),
    }
    for name, m in expected.items():
        assert f"| {name} | 11 | {m['kendall']:.4f} | {m['pearson']:.4f} |" in text
    assert main(["report", "--gt", str(files["gt"]), "--seeds", str(files["s0"]), str(files["s1"]),
                 "--space", "cvpr21_resnet20", "--out-dir", str(out_dir), "--band", "half"]) == 2


def test_report_states_the_noise_ceiling_of_the_seeds_mean(tmp_path):
    """The noise-ceiling line, checked against the two-seed variance components computed here: the seed
    noise from the seeds' difference, the arch spread from their mean, then Spearman-Brown and Greiner."""
    from paddle_supernet.report import noise_ceiling_line

    space = get_space("cvpr21_resnet20", num_classes=10)
    codes = space.sample_unique(40, seed=1)
    rng = np.random.default_rng(1)
    truth = rng.normal(0.8, 0.01, 40)
    accs = [truth + rng.normal(0, 0.01, 40), truth + 0.003 + rng.normal(0, 0.01, 40)]
    paths = []
    for seed, values in enumerate(accs):
        paths.append(str(tmp_path / f"gt.seed{seed}.json"))
        write_arch_file(paths[-1], {f"arch{i + 1}": ArchEntry(c, float(v)) for i, (c, v) in enumerate(zip(codes, values))})
    keys = [f"arch{i + 1}" for i in range(40)]
    sigma_seed2 = np.var(accs[0] - accs[1], ddof=1) / 2
    sigma_arch2 = np.var((accs[0] + accs[1]) / 2, ddof=1) - sigma_seed2 / 2
    rho = sigma_arch2 / (sigma_arch2 + sigma_seed2)
    reliability = 2 * rho / (1 + rho)
    line = noise_ceiling_line(paths, keys)
    assert f"Kendall {2 / np.pi * np.arcsin(np.sqrt(reliability)):.3f} [95% over archs: " in line
    assert f"] and Pearson {np.sqrt(reliability):.3f}" in line
    assert "2-seed mean over its 40 archs" in line and noise_ceiling_line(paths[:1], keys) == ""
    import pytest

    from paddle_supernet.errors import InputError

    with pytest.raises(InputError, match=r"gt\.seed0\.json: arch41: the seed file lacks"):
        noise_ceiling_line(paths, keys + ["arch41"])


def test_report_cli_refuses_a_single_seed(tmp_path, capsys):
    space = get_space("cvpr21_resnet20", num_classes=10)
    path = tmp_path / "gt.seed0.json"
    write_arch_file(path, {f"arch{i + 1}": ArchEntry(c, 0.5 + i / 100) for i, c in enumerate(space.sample_unique(5, seed=0))})
    assert main(["report", "--gt", str(path), "--seeds", str(path), "--space", "cvpr21_resnet20",
                 "--out-dir", str(tmp_path / "out")]) != 0
    assert "gt.seed0.json: --seeds needs the ground truth of two or more training seeds" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
