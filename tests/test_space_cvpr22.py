import collections

import pytest

from paddle_supernet.errors import InputError
from paddle_supernet.io.challenge_json import read_arch_file
from paddle_supernet.spaces import get_space
from paddle_supernet.spaces.cvpr22_resnet48 import make_divisible, width_of

EXAMPLE = "1252233313000000223212122253130000000000006515000000"


@pytest.fixture
def space():
    return get_space("cvpr22_resnet48")


def test_make_divisible_table():
    assert [width_of(64, k) for k in range(1, 8)] == [64, 64, 56, 56, 48, 48, 48]
    assert [width_of(512, k) for k in range(1, 8)] == [512, 488, 464, 432, 408, 384, 360]
    assert make_divisible(3) == 8  # at least 8


def test_decode_example(space):
    arch = space.decode(EXAMPLE)
    assert arch.depths == (2, 5, 2, 2) and arch.stem_width == 56 and arch.image_size == 224
    assert [(b.mid, b.cout) for b in arch.stage_blocks(0)] == [(56, 56), (64, 56)]
    assert [b.stride for b in arch.blocks()][:3] == [1, 1, 2]
    assert space.encode(arch) == EXAMPLE


def test_every_test_code_round_trips_and_is_in_test_distribution(space, cvpr22_archs):
    entries = read_arch_file(cvpr22_archs)
    assert len(entries) == 45000
    for entry in entries.values():
        assert space.encode(space.decode(entry.arch)) == entry.arch
        assert space.in_test_distribution(entry.arch)


@pytest.mark.parametrize("code, message", [
    (EXAMPLE[:-1], "must be exactly 52 digits, got 51"),
    ("2" + EXAMPLE[1:], r"digit 0 is 2, allowed \{1\}"),
    (EXAMPLE[:1] + "1" + EXAMPLE[2:], r"digit 1 is 1, allowed \{2, 3, 4, 5\}"),
    (EXAMPLE[:5] + "8" + EXAMPLE[6:], r"digit 5 is 8, allowed \{1, 2, 3, 4, 5, 6, 7\}"),
    (EXAMPLE[:10] + "7" + EXAMPLE[11:],  # an absent block must be 00
     r"digit 10 is 7, allowed \{0\}: it belongs to block 3 of stage 1, which depth 2 leaves absent, so it must be 0"),
    (EXAMPLE[:6] + "0" + EXAMPLE[7:], r"digit 6 is 0, allowed \{1,"),
    (EXAMPLE[:7] + "x" + EXAMPLE[8:], "must be exactly 52 digits"),
])
def test_validate_names_digit_value_and_allowed(space, code, message):
    with pytest.raises(InputError, match=message):
        space.validate(code)


def test_test_distribution_sampling(space):
    codes = [space.sample(0, step=i) for i in range(2000)]
    assert all(space.in_test_distribution(c) for c in codes)
    depth3 = collections.Counter(space.decode(c).depths[2] for c in codes)
    assert set(depth3) == set(range(2, 9)) and min(depth3.values()) > 200
    stage4_codes = {d for c in codes for blk in space.decode(c).block_codes[3] for d in blk}
    assert stage4_codes == set(range(1, 8))


def test_free_distribution_is_wider(space):
    codes = [space.sample(0, step=i, distribution="free") for i in range(200)]
    assert all(space.is_valid(c) for c in codes)
    assert sum(space.in_test_distribution(c) for c in codes) < 5
    with pytest.raises(InputError, match="unknown distribution 'weird'.*test, tied, free"):
        space.sample(0, distribution="weird")


def test_tied_distribution_is_the_baseline_sampling(space):
    """All 7 width codes in every stage, one output code per stage, stage 1's = the stem's (trap T15)."""
    codes = [space.sample(0, step=i, distribution="tied") for i in range(400)]
    for code in codes:
        arch = space.decode(code)
        assert all(len({out for _, out in blocks}) == 1 for blocks in arch.block_codes)
        assert arch.block_codes[0][0][1] == arch.stem_code
        assert space.compose(space.choice_values(code, "tied"), "tied") == code
    assert {space.decode(c).stem_code for c in codes} == set(range(1, 8))
    assert {d for c in codes for blk in space.decode(c).block_codes[0] for d in blk} == set(range(1, 8))
    assert sum(space.in_test_distribution(c) for c in codes) < 20
    assert space.smallest("tied") == "1222277777" + "00" * 3 + "7777" + "00" * 3 + "7777" + "00" * 6 + "7777" + "00" * 3
    with pytest.raises(InputError, match="outside the tied distribution"):
        space.choice_values(space.sample(4, step=0, distribution="free"), "tied")


def _independent_counts(arch, classes=1000):
    """Parameters and MACs of the official ResNet48, written from the protocol text."""
    hw = 56
    stem = arch.stem_width
    params = 3 * 49 * stem + 2 * stem
    macs = 3 * 49 * stem * 112 * 112
    cin = stem
    for s, codes in enumerate(arch.block_codes):
        base = (64, 128, 256, 512)[s]
        for j, (c1, c2) in enumerate(codes):
            mid, cout = width_of(base, c1), width_of(base, c2)
            if s and j == 0:
                hw //= 2
            params += 9 * cin * mid + 2 * mid + 9 * mid * cout + 2 * cout
            macs += 9 * (cin * mid + mid * cout) * hw * hw
            if s and j == 0:
                params += cin * cout + 2 * cout
                macs += cin * cout * hw * hw
            cin = cout
    return params + cin * classes + classes, macs + cin * classes


def test_params_and_macs_match_protocol(space):
    for i in range(20):
        code = space.sample(1, step=i)
        assert (space.params(code), space.macs(code)) == _independent_counts(space.decode(code))
    big, small = space.largest(), space.smallest()
    assert space.in_test_distribution(big) and space.in_test_distribution(small)
    assert space.macs(big) > 4 * space.macs(small)


@pytest.mark.parametrize("distribution", ["test", "free"])
def test_sample_spread_log_spacing_keeps_codes_valid(space, distribution):
    codes = space.sample_spread(12, seed=1, measure="params", distribution=distribution, spacing="log")
    assert codes[0] == space.smallest(distribution) and codes[-1] == space.largest(distribution)
    assert all(space.is_valid(c) for c in codes)
    if distribution == "test":
        assert all(space.in_test_distribution(c) for c in codes)
    params = [space.params(c) for c in codes]
    assert params == sorted(params) and len(set(codes)) == 12
