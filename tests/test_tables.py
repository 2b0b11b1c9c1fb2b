import numpy as np
import pytest

from paddle_supernet.io.challenge_json import ArchEntry, read_arch_file, write_arch_file
from paddle_supernet.metrics import ranking_metrics
from paddle_supernet.spaces import get_space
from paddle_supernet.tables import seed_rows, seed_table


def test_seed_rows_average_and_spread(tmp_path):
    space = get_space("cvpr21_resnet20")
    codes = space.sample_unique(20, seed=1)
    rng = np.random.default_rng(0)
    truth = rng.normal(size=20)

    def write(name, values):
        path = tmp_path / f"{name}.json"
        write_arch_file(path, {f"arch{i + 1}": ArchEntry(c, float(v)) for i, (c, v) in enumerate(zip(codes, values))})
        return str(path)

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
