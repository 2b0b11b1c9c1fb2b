import numpy as np
import pytest

from paddle_supernet.io.challenge_json import ArchEntry, read_arch_file, write_arch_file
from paddle_supernet.metrics import ranking_metrics
from paddle_supernet.spaces import get_space
from paddle_supernet.tables import seed_rows, seed_table


def _write_scores(path, codes, values) -> str:
    """A submission-format file ``arch1``.. with ``codes`` scored ``values`` (folders made); its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_arch_file(path, {f"arch{i + 1}": ArchEntry(c, float(v)) for i, (c, v) in enumerate(zip(codes, values))})
    return str(path)


def test_seed_rows_average_and_spread(tmp_path):
    space = get_space("cvpr21_resnet20")
    codes = space.sample_unique(20, seed=1)
    rng = np.random.default_rng(0)
    truth = rng.normal(size=20)

    def write(name, values):
        return _write_scores(tmp_path / f"{name}.json", codes, values)

    gt = write("gt", truth)
    seeds = [write("g0", truth + rng.normal(0, 0.1, 20)), write("g1", truth + rng.normal(0, 0.1, 20))]
    subs = [write("a", truth + rng.normal(0, 0.5, 20)), write("b", truth + rng.normal(0, 0.5, 20))]
    rows = seed_rows({"method": subs}, gt)
    k = [ranking_metrics(read_arch_file(p), read_arch_file(gt))["kendall"] for p in subs]
    assert rows["method"]["kendall"] == pytest.approx((np.mean(k), abs(k[0] - k[1]) / 2))
    table = seed_table({"method": subs}, gt, seeds, "cvpr21_resnet20", 10)
    assert f"| method | 2 | {np.mean(k):.4f} ± {abs(k[0] - k[1]) / 2:.4f} |" in table
    assert "| params proxy | - |" in table and "| seed-to-seed ceiling | - |" in table
    # restricted to the first ten archs, every line is scored on those alone
    keys = [f"arch{i + 1}" for i in range(10)]
    first = {k: v for k, v in read_arch_file(gt).items() if k in keys}
    k10 = [ranking_metrics(read_arch_file(p), first)["kendall"] for p in subs]
    assert f"| method | 2 | {np.mean(k10):.4f} ± {abs(k10[0] - k10[1]) / 2:.4f} |" in \
        seed_table({"method": subs}, gt, seeds, "cvpr21_resnet20", 10, keys)
    method_line = next(line for line in table.splitlines() if line.startswith("| method |"))
    assert method_line.count("±") == 5  # Kendall, Pearson, Spearman, top-10%, Pearson beyond size


def test_group_section_shows_finished_rows_and_names_the_pending_ones(tmp_path):
    from paddle_supernet.errors import InputError
    from paddle_supernet.tables import TableRow, group_section

    space = get_space("cvpr21_resnet20")
    codes = space.sample_unique(12, seed=2)
    rng = np.random.default_rng(1)
    truth = rng.normal(size=12)

    def write(path, values):
        _write_scores(path, codes, values)

    bench, runs = tmp_path / "bench", tmp_path / "runs"
    for name in ("gt", "gt.seed0", "gt.seed1"):
        write(bench / f"{name}.json", truth + (0 if name == "gt" else rng.normal(0, 0.1, 12)))
    rows = [TableRow("done", "c.yaml", "a_seed{seed}", "x"), TableRow("half", "c.yaml", "b_seed{seed}", "y"),
            TableRow("later", "c.yaml", "c_seed{seed}", "z")]
    args = ("g", "title", rows, [0, 1], runs, bench, "tool", "cvpr21_resnet20", 10, None)
    with pytest.raises(InputError, match="no row of group g has a finished submission"):
        group_section(*args)
    for path in (runs / "a_seed0/x", runs / "a_seed1/x", runs / "b_seed1/y"):
        write(path / "submission.json", truth + rng.normal(0, 0.3, 12))
    section = group_section(*args)
    assert "| done | 2 |" in section and "| half | 1 |" in section and "| later |" not in section
    assert "Not finished yet (rows shown with the seeds done so far, or left out): half; later." in section
