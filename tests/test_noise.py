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
