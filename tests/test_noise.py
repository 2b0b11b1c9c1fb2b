import numpy as np
import pytest

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
    with pytest.raises(ValueError, match="at least 2 seeds"):
        seed_noise(a)
