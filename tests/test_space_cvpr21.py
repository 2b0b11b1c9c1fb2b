import numpy as np
import pytest

from paddle_supernet.errors import InputError
from paddle_supernet.io.challenge_json import read_arch_file
from paddle_supernet.spaces import get_space, list_spaces

EXAMPLE = "16-4-12-16-8-16-16-24-12-8-16-4-32-52-52-52-20-40-8-44"


@pytest.fixture
def space():
    return get_space("cvpr21_resnet20")


def test_registered_by_name():
    assert {"cvpr21_resnet20", "cvpr22_resnet48"} <= set(list_spaces())
    with pytest.raises(InputError, match="unknown search space 'nope'.*cvpr21_resnet20"):
        get_space("nope")


def test_decode_structure_keeps_dummy(space):
    arch = space.decode(EXAMPLE)
    assert arch.stem == 16 and arch.dummy == 44 and arch.head_in == 8
    blocks = arch.blocks
    assert [(b.cin, b.mid, b.cout) for b in blocks][:2] == [(16, 4, 12), (12, 16, 8)]
    assert [b.stride for b in blocks] == [1, 1, 1, 2, 1, 1, 2, 1, 1]
    # official rule: projection on each stage's first block or when in != out
    assert all(b.needs_projection() for b in blocks)  # every block here changes width or starts a stage
    big = space.decode(space.largest()).blocks
    assert [b.needs_projection() for b in big] == [True, False, False] * 3
    assert all(b.needs_projection("projection") for b in big)
    assert space.encode(arch) == EXAMPLE


def test_every_official_code_round_trips(space, cvpr21_archs):
    entries = read_arch_file(cvpr21_archs)
    assert len(entries) == 50000
    for entry in entries.values():
        assert space.encode(space.decode(entry.arch)) == entry.arch


@pytest.mark.parametrize("code, message", [
    (EXAMPLE.replace("16-4-12", "16-5-12", 1), r"field 2 \(1-based\) is 5, allowed \{4, 8, 12, 16\}"),
    ("20" + EXAMPLE[2:], r"field 1 \(1-based\) is 20, allowed \{4, 8, 12, 16\}"),
    (EXAMPLE + "-4", "has 21 fields, expected 20"),
    (EXAMPLE.replace("-4-", "-04-", 1), "field 2 \\(1-based\\) is .04., not a plain positive integer"),
    (EXAMPLE.replace("-4-", "- 4-", 1), "not a plain positive integer"),
    ("", "has 1 fields"),
])
def test_validate_names_field_value_and_allowed(space, code, message):
    with pytest.raises(InputError, match=message):
        space.validate(code)
    assert not space.is_valid(code)


def test_field_ranges_and_size(space):
    largest = [int(v) for v in space.largest().split("-")]
    assert largest == [16] * 7 + [32] * 6 + [64] * 7
    assert space.smallest() == "-".join(["4"] * 20)
    assert abs(space.size() - 7.2e16) / 7.2e16 < 0.01


def test_sampling_is_local_seeded_and_uniform(space):
    state = np.random.get_state()
    a = [space.sample(7, epoch=1, step=s, k=0) for s in range(300)]
    assert a == [space.sample(7, epoch=1, step=s, k=0) for s in range(300)]
    assert space.sample(7, 1, 0, 0) != space.sample(7, 1, 0, 1)
    assert np.all(np.random.get_state()[1] == state[1]), "sampling touched the global numpy RNG"
    fields = np.array([[int(v) for v in c.split("-")] for c in a])
    assert set(fields[:, 0]) == {4, 8, 12, 16} and set(fields[:, 19]) <= set(range(4, 65, 4))
    assert fields[:, 13].mean() == pytest.approx(34, abs=3)  # uniform over 4..64
    unique = space.sample_unique(50, seed=3)
    assert len(set(unique)) == 50 and unique == space.sample_unique(50, seed=3)


def _independent_counts(fields, projection_everywhere=False, classes=100, hw=32):
    """Parameters and MACs written straight from the protocol text."""
    c = fields
    params = 3 * 9 * c[0] + 2 * c[0]
    macs = 3 * 9 * c[0] * hw * hw
    for k in range(1, 10):
        cin, mid, cout = c[2 * k - 2], c[2 * k - 1], c[2 * k]
        if k in (4, 7):
            hw //= 2
        params += 9 * cin * mid + 2 * mid + 9 * mid * cout + 2 * cout
        macs += (9 * cin * mid + 9 * mid * cout) * hw * hw
        if projection_everywhere or k in (1, 4, 7) or cin != cout:
            params += cin * cout + 2 * cout
            macs += cin * cout * hw * hw
    params += c[18] * classes + classes
    macs += c[18] * classes
    return params, macs


def test_params_and_macs_match_protocol(space):
    for seed in range(20):
        code = space.sample(seed)
        fields = [int(v) for v in code.split("-")]
        assert (space.params(code), space.macs(code)) == _independent_counts(fields)
        assert (space.params(code, shortcut="projection"), space.macs(code, shortcut="projection")) == \
            _independent_counts(fields, projection_everywhere=True)
    # the classic ResNet20 (all 16/32/64) with projection shortcuts at stage starts
    assert space.params(space.largest()) == 278612


def test_options_enhancement_width_map(space):
    code = space.smallest()
    mapped = [5] * 20
    assert (space.params(code, width_map={4: 5, 8: 9}), space.macs(code, width_map={4: 5, 8: 9})) == \
        _independent_counts(mapped)
    assert space.params(code, prelu=True) == space.params(code) + 9


def test_unknown_shortcut_policy(space):
    with pytest.raises(InputError, match="unknown shortcut policy 'sometimes'"):
        space.params(space.largest(), shortcut="sometimes")


def test_sample_spread_spans_the_macs_range(space):
    codes = space.sample_spread(20, seed=0, measure="macs")
    macs = [space.macs(c) for c in codes]
    assert len(set(codes)) == 20 and macs == sorted(macs)
    pool = [space.macs(c) for c in space.sample_unique(1000, 0)]
    assert macs[0] == min(pool) and macs[-1] == max(pool)
    assert codes == space.sample_spread(20, seed=0, measure="macs")


def test_sample_spread_log_spacing_reaches_the_ends_evenly(space):
    codes = space.sample_spread(30, seed=3, measure="macs", spacing="log")
    assert len(set(codes)) == 30 and codes[0] == space.smallest() and codes[-1] == space.largest()
    log_macs = np.log([space.macs(c) for c in codes])
    assert list(log_macs) == sorted(log_macs)
    step = (log_macs[-1] - log_macs[0]) / 29
    # every pick lies within a quarter step of its evenly spaced target
    assert np.abs(log_macs - np.linspace(log_macs[0], log_macs[-1], 30)).max() < step / 4
    assert codes == space.sample_spread(30, seed=3, measure="macs", spacing="log")


def test_sample_code_skewed_leans_to_the_ends(space):
    rng = np.random.default_rng(0)
    assert space.sample_code_skewed(rng, 0.0) == space.smallest()
    assert space.sample_code_skewed(rng, 1.0) == space.largest()


def test_sample_spread_rejects_unknown_spacing(space):
    with pytest.raises(InputError, match="unknown spacing 'cubic'"):
        space.sample_spread(5, seed=0, spacing="cubic")


@pytest.mark.parametrize("variant", [{}, {"shortcut": "projection"}, {"width_map": {4: 5, 8: 9}, "prelu": True}])
def test_group_params_shortcut_equals_the_layer_by_layer_count(variant):
    from paddle_supernet.spaces.base import SearchSpace

    space = get_space("cvpr21_resnet20")
    codes = [space.sample(3, 0, i, 0) for i in range(60)] + [space.largest(), space.smallest()]
    assert all(space.group_params(c, **variant) == SearchSpace.group_params(space, c, **variant) for c in codes)
