"""Latency tables: units compose to the network, each unit is measured once and kept, a table of
another input is refused, and the search honours a latency budget (the timing itself is replaced
by a counted stand-in here; speed is measured in bench/, never in tests)."""
import numpy as np
import paddle
import pytest

from paddle_supernet import latency as latency_module
from paddle_supernet.errors import InputError
from paddle_supernet.latency import LatencyTable, measure_ms
from paddle_supernet.nn.resnet20 import StandaloneResNet20
from paddle_supernet.nn.resnet48 import StandaloneResNet48
from paddle_supernet.search import Constraint, run_search
from paddle_supernet.spaces import get_space

R20 = get_space("cvpr21_resnet20")


@pytest.mark.parametrize("make", [lambda: StandaloneResNet20(R20.sample(0, 0, 1, 0), num_classes=10),
                                  lambda: StandaloneResNet48(get_space("cvpr22_resnet48").sample(0, 0, 1, 0),
                                                             num_classes=10, small_input=True, width_scale=0.125)])
def test_a_networks_units_compose_to_its_forward(make):
    paddle.seed(0)
    net = make()
    net.eval()
    x = paddle.to_tensor(np.random.default_rng(0).normal(size=(2, 3, 8, 8)).astype("float32"))
    with paddle.no_grad():
        y = x
        for unit in net.units():
            y = unit(y)
        np.testing.assert_allclose(y.numpy(), net(x).numpy(), atol=1e-6)


@pytest.fixture
def counted(monkeypatch):
    """measure_ms replaced by 0.001 ms per parameter, with every call counted."""
    calls = []

    def fake(layer, in_shape, threads=1, repeats=30):
        calls.append(type(layer).__name__)
        return 1e-3 * sum(int(np.prod(p.shape)) for p in layer.parameters()) + 0.01

    monkeypatch.setattr(latency_module, "measure_ms", fake)
    return calls


def build(code):
    return StandaloneResNet20(code, num_classes=10)


def test_each_unit_is_measured_once_and_the_table_is_kept(tmp_path, counted):
    table = LatencyTable(tmp_path / "t.json", R20.name, build, [1, 3, 8, 8])
    code = R20.sample(0, 0, 2, 0)
    first = table.predict(code)
    n = len(counted)
    units = [key for key in table.units if key != "overhead"]                   # and the predictor's fixed cost
    assert n == len(table.units) and 0 < len(units) <= len(build(code).units())  # each distinct unit measured once
    assert table.predict(code) == first and len(counted) == n                  # nothing measured again
    again = LatencyTable(tmp_path / "t.json", R20.name, build, [1, 3, 8, 8])   # read back from the file
    assert again.predict(code) == pytest.approx(first) and len(counted) == n
    with pytest.raises(InputError, match="was measured for"):
        LatencyTable(tmp_path / "t.json", R20.name, build, [1, 3, 16, 16])
    frozen = LatencyTable(tmp_path / "t.json", R20.name, build, [1, 3, 8, 8], frozen=True)
    with pytest.raises(InputError, match="read only"):
        frozen.predict(R20.largest())


def test_the_search_honours_a_latency_budget_and_refuses_one_no_arch_meets(tmp_path, counted):
    table = LatencyTable(tmp_path / "t.json", R20.name, build, [1, 3, 8, 8])
    smallest, largest = table.predict(R20.smallest()), table.predict(R20.largest())
    bound = (smallest + largest) / 2
    result = run_search(R20, lambda code: -R20.macs(code), [Constraint.parse(f"latency={bound}")], "random",
                        evaluations=8, seed=0, latency=table)
    assert len(result.history) == 8 and all(row["latency"] <= bound for row in result.history)
    with pytest.raises(InputError, match="smallest attainable"):
        run_search(R20, lambda code: 0.0, [Constraint.parse(f"latency={smallest / 2}")], "random", evaluations=2,
                   latency=table)
    with pytest.raises(InputError, match="latency table"):
        run_search(R20, lambda code: 0.0, [Constraint.parse("latency=5")], "random", evaluations=2)


def test_a_unit_is_timed_through_paddle_inference():
    layer = paddle.nn.Sequential(paddle.nn.Conv2D(3, 4, 3, padding=1), paddle.nn.ReLU())
    assert 0 < measure_ms(layer, [1, 3, 8, 8], threads=1, repeats=3) < 1000
