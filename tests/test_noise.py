import numpy as np
import pytest
from scipy import stats

from paddle_supernet.noise import seed_noise


def test_noise_components_recover_a_simulation():
    rng = np.random.default_rng(0)
    truth = rng.normal(0.85, 0.01, 4000)
    a, b = truth + rng.normal(0, 0.004, 4000), truth + rng.normal(0, 0.004, 4000)
    m = seed_noise(a, b)
    assert m["sigma_seed"] == pytest.approx(0.004, rel=0.05)
    assert m["sigma_arch"] == pytest.approx(0.01, rel=0.05)
    rho = 0.01 ** 2 / (0.01 ** 2 + 0.004 ** 2)
    assert m["kendall"] == pytest.approx(2 / np.pi * np.arcsin(rho), abs=0.02)  # Greiner's relation


def test_noise_command_refuses_seed_files_with_different_codes(tmp_path, capsys):
    from paddle_supernet.cli import main
    from paddle_supernet.io.challenge_json import ArchEntry, write_arch_file

    write_arch_file(tmp_path / "a.json", {f"arch{i + 1}": ArchEntry(c, 0.8 + i / 100) for i, c in
                                          enumerate(["4-" * 19 + "4", "8-" * 19 + "8", "12-" * 19 + "12"])})
    write_arch_file(tmp_path / "b.json", {f"arch{i + 1}": ArchEntry(c, 0.8 + i / 100) for i, c in
                                          enumerate(["4-" * 19 + "4", "8-" * 19 + "4", "12-" * 19 + "12"])})
    assert main(["noise", str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 2
    err = capsys.readouterr().err
    assert "arch2" in err and "arch code differs between" in err and "b.json" in err


def test_two_seed_noise_is_the_seed_difference_and_more_seeds_average_out():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0.85, 0.01, 50), rng.normal(0.85, 0.01, 50)
    m = seed_noise(a, b)
    assert m["sigma_seed"] == pytest.approx(np.std(a - b, ddof=1) / np.sqrt(2))  # independent formula
    assert m["sigma_arch"] ** 2 == pytest.approx(max(np.var((a + b) / 2, ddof=1) - m["sigma_seed"] ** 2 / 2, 0))
    truth = rng.normal(0.85, 0.004, 6000)
    runs = [truth + rng.normal(0, 0.006, 6000) + offset for offset in (0.0, 0.01, -0.02)]  # seed offsets removed
    m3 = seed_noise(*runs)
    assert (m3["seeds"], m3["n"]) == (3, 6000)
    assert m3["sigma_seed"] == pytest.approx(0.006, rel=0.03) and m3["sigma_arch"] == pytest.approx(0.004, rel=0.05)
    rho = 0.004 ** 2 / (0.004 ** 2 + 0.006 ** 2)
    assert m3["mean_reliability"] == pytest.approx(3 * rho / (1 + 2 * rho), abs=0.03)
    assert np.corrcoef(np.mean(runs, 0), truth)[0, 1] ** 2 == pytest.approx(m3["mean_reliability"], abs=0.03)
    assert stats.kendalltau(np.mean(runs, 0), truth)[0] == pytest.approx(m3["perfect_ranker_kendall"], abs=0.02)
    with pytest.raises(ValueError, match="at least 2 seeds"):
        seed_noise(a)


def _runs_log(path, rows):
    import json

    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def test_noise_of_a_runs_log_equals_noise_of_its_seed_files(tmp_path, capsys):
    """A ground truth still training: the archs every seed finished, as if they were seed files."""
    import json

    from paddle_supernet.cli import main
    from paddle_supernet.io.challenge_json import ArchEntry, write_arch_file

    rng = np.random.default_rng(5)
    codes = {f"arch{i}": "".join(rng.choice(list("1234"), 8)) for i in range(1, 9)}
    accs = {(k, s): round(float(rng.normal(0.85, 0.01)), 4) for k in codes for s in (0, 1)}
    order = [(k, s) for k in codes for s in (1, 0)]  # seeds out of order, as parallel workers finish them
    rows = [{"key": k, "arch": codes[k], "seed": s, "acc": accs[k, s], "loss": 0.3, "seconds": 1.0}
            for k, s in order[:-1]]  # arch8's seed 0 still training
    _runs_log(tmp_path / "gt.runs.jsonl", rows)
    for seed in (0, 1):
        write_arch_file(tmp_path / f"s{seed}.json", {k: ArchEntry(codes[k], accs[k, seed]) for k in list(codes)[:7]})
    assert main(["noise", "--runs", str(tmp_path / "gt.runs.jsonl")]) == 0
    from_log = json.loads(capsys.readouterr().out)
    assert main(["noise", str(tmp_path / "s0.json"), str(tmp_path / "s1.json")]) == 0
    from_files = json.loads(capsys.readouterr().out)
    assert from_log.pop("seed_list") == [0, 1] and from_log["n"] == 7
    interval = from_log.pop("perfect_ranker_kendall_95")  # the same archs in the same order: the same resamples
    assert interval == pytest.approx(from_files.pop("perfect_ranker_kendall_95"))
    assert from_log == pytest.approx(from_files)


@pytest.mark.parametrize("rows, message", [
    ([{"key": "a", "arch": "11", "acc": 0.8}], "line 1: a run without seed"),
    ([{"key": "a", "arch": "11", "seed": 0, "acc": 0.8}, {"key": "a", "arch": "12", "seed": 1, "acc": 0.8}],
     "line 2: a has another arch code"),
    ([{"key": "a", "arch": "11", "seed": 0, "acc": 0.8}, {"key": "a", "arch": "11", "seed": 0, "acc": 0.7}],
     "line 2: a, seed 0 is run twice"),
    ([{"key": "a", "arch": "11", "seed": "x", "acc": 0.8}], "line 1: seed 'x' or acc 0.8 is not a number"),
    ([{"key": k, "arch": k, "seed": s, "acc": 0.8 + i / 100} for i, k in enumerate("ab") for s in (0, 1)],
     "holds 2 archs finished for each of 2 seed"),
])
def test_noise_of_a_bad_runs_log_is_one_clear_error(tmp_path, capsys, rows, message):
    from paddle_supernet.cli import main

    _runs_log(tmp_path / "gt.runs.jsonl", rows)
    before = (tmp_path / "gt.runs.jsonl").read_bytes()
    assert main(["noise", "--runs", str(tmp_path / "gt.runs.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "gt.runs.jsonl" in err and message in err
    assert (tmp_path / "gt.runs.jsonl").read_bytes() == before


def test_noise_refuses_seed_files_and_a_runs_log_together(tmp_path, capsys):
    from paddle_supernet.cli import main

    assert main(["noise", "a.json", "--runs", str(tmp_path / "gt.runs.jsonl")]) == 2
    assert "seed files or --runs, not both" in capsys.readouterr().err
    assert main(["noise", "--runs", str(tmp_path / "none.jsonl")]) == 2
    assert "none.jsonl: no such runs log" in capsys.readouterr().err


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path):
    """`paddle-supernet noise ... | head -1`: the command stops quietly when its reader goes away."""
    import subprocess
    import sys

    from paddle_supernet.io.challenge_json import ArchEntry, write_arch_file

    for seed in (0, 1):
        write_arch_file(tmp_path / f"s{seed}.json", {f"arch{i + 1}": ArchEntry(c, 0.8 + (i * (seed + 2)) % 7 / 100)
                                                     for i, c in enumerate(["4-" * 19 + "4", "8-" * 19 + "8",
                                                                            "12-" * 19 + "12", "16-" * 19 + "16"])})
    proc = subprocess.Popen([sys.executable, "-m", "paddle_supernet", "noise", str(tmp_path / "s0.json"),
                             str(tmp_path / "s1.json")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the command writes
    err = proc.stderr.read().decode()
    assert proc.wait() == 1 and "Traceback" not in err and "BrokenPipe" not in err, err


def test_the_noise_ceiling_interval_covers_the_ranker_that_knows_the_truth():
    """Over simulated ground truths (true accuracies plus seed noise), the 95% bootstrap interval of the
    ceiling holds the Kendall that the true accuracies actually reach against the seeds' mean in most
    draws; it narrows with more archs; the same call gives the same interval (a local RNG)."""
    from paddle_supernet.noise import noise_ceiling_interval, noise_summary

    rng = np.random.default_rng(5)
    covered, widths = 0, []
    for _ in range(30):
        truth = rng.normal(0.85, 0.003, 60)
        runs = [truth + rng.normal(0, 0.004, 60) for _ in range(2)]
        low, high = noise_ceiling_interval(*runs, resamples=200)
        covered += low <= stats.kendalltau(np.mean(runs, 0), truth)[0] <= high
        widths.append(high - low)
    assert covered >= 24
    truth = rng.normal(0.85, 0.003, 600)
    runs = [truth + rng.normal(0, 0.004, 600) for _ in range(2)]
    low, high = noise_ceiling_interval(*runs, resamples=200)
    assert high - low < np.mean(widths) / 2
    summary = noise_summary(*runs, resamples=200)
    assert summary["perfect_ranker_kendall_95"] == [low, high]
    assert low <= summary["perfect_ranker_kendall"] <= high
