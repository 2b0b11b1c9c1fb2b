"""The sampler family: each sampler's distribution checked against an independent computation."""
from collections import Counter
from pathlib import Path

import pytest

from paddle_supernet.engine.config import load_config
from paddle_supernet.errors import InputError
from paddle_supernet.samplers import build_sampler
from paddle_supernet.samplers.ccfs import CcfsSampler
from paddle_supernet.spaces import get_space

R20, R48 = get_space("cvpr21_resnet20"), get_space("cvpr22_resnet48")
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
TEST_LIST = SHARED / "cvpr22" / "CVPR_2022_NAS_Track1_test.json"


def test_uniform_is_the_historical_draw_and_sandwich_adds_the_ends():
    for space, dist in ((R20, None), (R48, "test"), (R48, "free")):
        uniform = build_sampler({"name": "uniform"}, space, 7, dist)
        assert uniform.archs(2, 5, 3) == [space.sample(7, 2, 5, k, dist) for k in range(3)]
        sandwich = build_sampler({"name": "sandwich"}, space, 7, dist)
        assert sandwich.archs(2, 5, 4) == [space.largest(dist), space.smallest(dist)] + uniform.archs(2, 5, 4)[2:]
    with pytest.raises(InputError, match="strategy.k: must be an integer >= 2"):
        build_sampler({"name": "sandwich"}, R20, 0).archs(0, 0, 1)


@pytest.mark.parametrize("space,dist,count", [(R20, None, 4), (R20, None, 3), (R48, "test", 4), (R48, "free", 5)])
def test_fair_sampler_trains_every_option_equally_often_over_a_cycle(space, dist, count):
    sampler = build_sampler({"name": "fair"}, space, 3, dist)
    cycle = sampler.cycle
    steps = -(-cycle // count)
    codes = [c for step in range(steps) for c in sampler.archs(1, step, count)][:cycle]
    values = [space.choice_values(c, dist) for c in codes]
    for choice in space.choices(dist):
        seen = Counter(v[choice.name] for v in values if choice.name in v)
        present = sum(seen.values())
        if present == cycle:  # strict: every option exactly cycle / n times
            assert seen == {o: cycle // len(choice.options) for o in choice.options}, choice.name
        else:  # a block beyond the shallowest depth: only when present; the draw is still uniform
            assert set(seen) <= set(choice.options)
    strict = {c.name for c in space.choices(dist) if c.kind == "depth" or c.name in ("stem", "f0")}
    assert all(sum(1 for v in values if n in v) == cycle for n in strict)
    assert cycle == {None: 16, "test": 420, "free": 28}[dist]


def test_ccfs_keeps_exactly_the_top_k_of_its_draws_by_an_independent_phi():
    alphas = [1.0, 2.0, 0.5, 0.25]
    sampler = CcfsSampler(R20, seed=4, pool=60, alphas=alphas)

    def phi(code):  # independent: the stand-alone layer list, grouped by name
        total = 0.0
        for layer in R20.layer_specs(code):
            if layer.name.startswith("stem"):
                total += alphas[0] * layer.params
            elif layer.name.startswith("blocks"):
                total += alphas[1 + int(layer.name.split(".")[1]) // 3] * layer.params
        return total

    for step in range(3):
        pool = sampler.pool(0, step)
        assert len(pool) == 60
        expected = sorted(dict.fromkeys(pool), key=lambda c: (-phi(c), pool.index(c)))[:5]
        assert sampler.archs(0, step, 5) == expected
    # hand count, smallest 2021 arch: stem 3x3x3x4 + BN 8 = 116; a block 2 x (9x4x4 + 8) = 304; a stage
    # 3 blocks + one 1x1 projection (16 + 8) = 936; Phi = 116 + 2 x 936 + 0.5 x 936 + 0.25 x 936
    assert sampler.phi(R20.smallest()) == 116 + 2 * 936 + 0.5 * 936 + 0.25 * 936 == 2690


def test_ccfs_presets_and_the_released_channel_size():
    f = build_sampler({"name": "ccfs_f"}, R48, 0)
    assert f.alphas == [1.0, 1.0, 0.55, 0.43, 0.24] and f.measure == "params"
    assert build_sampler({"name": "ccfs_m"}, R48, 0).alphas == [1.0] * 5
    released = build_sampler({"name": "ccfs_released"}, R48, 0)
    # largest: stem 64; stage 1 10 x 64; stage 2 10 x up8(70.4) = 72; stage 3 16 x up8(108.8) = 112;
    # stage 4 10 x up8(121.6) = 128
    assert released.phi(R48.largest()) == 64 + 640 + 720 + 16 * 112 + 1280
    # stem and 4 stage-1 convs at code 3: 0.9 x 64 = 57.6 rounds up to 63.99... in floating point, as released
    from paddle_supernet.samplers.ccfs import up_to_eight
    assert 63.99 < up_to_eight(0.9 * 64) < 64
    phi = released._channels("1222233333000000111100000011110000000000001111000000")
    assert phi == pytest.approx(5 * 64 + 4 * 72 + 4 * 112 + 4 * 128)
    with pytest.raises(InputError, match="sampler.measure: the released channel-size measure is defined for cvpr22"):
        build_sampler({"name": "ccfs_released"}, R20, 0)
    with pytest.raises(InputError, match="sampler.alphas: must be one number >= 0 or a list of 4"):
        build_sampler({"name": "ccfs", "alphas": [1, 1]}, R20, 0)


def test_released_ties_overwrite_as_the_released_dict():
    sampler = CcfsSampler(R20, 0, ties="released")
    sizes = {"a": 5, "b": 3, "c": 5, "d": 7, "e": 1, "f": 9, "g": 9}
    sampler.phi = sizes.get
    # a; a b; c evicts b and overwrites a (one left); d; e too small; f evicts c; g evicts d, overwrites f
    assert sampler._released_top(list("abcdefg"), 2, None) == ["g"]
    first = CcfsSampler(R20, 0)
    first.phi = sizes.get
    assert sorted(dict.fromkeys("abcdefg"), key=lambda c: -sizes[c])[:2] == ["f", "g"]


def test_released_every_third_step_adds_an_arch():
    sampler = build_sampler({"name": "ccfs_released", "pool": 40}, R48, 1)
    counts = [len(sampler.archs(0, step, 4)) for step in range(6)]
    assert counts[0] == counts[3] == 5 and all(c <= 4 for i, c in enumerate(counts) if i % 3)
    paper = build_sampler({"name": "ccfs", "pool": 40, "extra_uniform_every": 3}, R48, 1)
    assert [len(paper.archs(0, s, 4)) for s in range(4)] == [5, 4, 4, 5]


def test_list_sampler_uses_each_arch_once_per_pass(tmp_path):
    from paddle_supernet.io.challenge_json import arch_list_from_codes, write_arch_file

    codes = R20.sample_unique(10, seed=0)
    path = tmp_path / "list.json"
    write_arch_file(path, arch_list_from_codes(codes))
    sampler = build_sampler({"name": "list", "archs": str(path)}, R20, 0)
    sampler.bind(steps_per_epoch=2)
    drawn = [c for epoch in range(5) for step in range(2) for c in sampler.archs(epoch, step, 2)]
    assert sorted(drawn[:10]) == sorted(codes) == sorted(drawn[10:])
    assert drawn[:10] != drawn[10:]  # each pass has its own order
    with pytest.raises(InputError, match="sampler.archs: needs an arch list"):
        build_sampler({"name": "list"}, R20, 0)


PHASES = [{"epochs": 1, "depth": [[4, 5], [4, 5], [6, 8], [2, 5]], "width": [[1, 1], [1, 1], [1, 1], [1, 1]]},
          {"epochs": [1, 2], "lr": 0.2, "width": [[1, 3], [1, 3], [1, 5], [1, 7]]}]


def test_phases_draw_within_each_phase_s_ranges():
    sampler = build_sampler({"name": "phases", "phases": PHASES}, R48, 0, "test", total_epochs=3)
    for step in range(20):
        for code in sampler.archs(0, step, 4):
            arch = R48.decode(code)
            assert 4 <= arch.depths[0] and 6 <= arch.depths[2] and arch.stem_code == 1
            assert all(c == (1, 1) for stage in arch.block_codes for c in stage)
    later = [R48.decode(c) for step in range(50) for c in sampler.archs(2, step, 4)]
    assert {a.depths[3] for a in later} == {2, 3, 4, 5}
    assert max(max(c) for a in later for c in a.block_codes[3]) == 7
    assert sampler.phase_at(2).lr == 0.2 and sampler.phase_at(0).lr is None
    # the 2021 space: width-only phases in channels
    r20 = build_sampler({"name": "phases", "phases": [{"epochs": 2, "width": [[12, 16], [24, 32], [48, 64]]}]}, R20, 0)
    assert all(min(R20.decode(c).fields[:7]) >= 12 for c in r20.archs(1, 3, 8))


@pytest.mark.parametrize("phases,total,message", [
    ([{"epochs": [0, 1]}, {"epochs": [1, 2]}], 3, r"sampler.phases\[1\].epochs: \[1, 2\] overlaps the previous phase"),
    ([{"epochs": [0, 0]}, {"epochs": [2, 2]}], 3, r"sampler.phases\[1\].epochs: \[2, 2\] leaves epochs 1-1 to no phase"),
    ([{"epochs": 2}], 3, "sampler.phases: the phases cover epochs 0-1 but schedule.epochs is 3"),
    ([{"epochs": 3, "depth": [[1, 5], [2, 5], [2, 8], [2, 5]]}], 3,
     r"sampler.phases\[0\].depth\[0\]: \[1, 5\] is outside the space: stage 1 depth options are 2..5"),
    ([{"epochs": 3, "width": [[1, 5], [1, 3], [1, 3], [1, 3]]}], 3,
     r"sampler.phases\[0\].width\[0\]: \[1, 5\] is outside the space"),
    ([{"epochs": 3, "speed": 1}], 3, r"sampler.phases\[0\]: unknown key 'speed'"),
    ([{"epochs": 3, "group": 1}], 3, r"sampler.phases\[0\].group: names a copy group, but the model is not a few-shot"),
])
def test_bad_phase_lists_name_the_key(phases, total, message):
    with pytest.raises(InputError, match=message):
        build_sampler({"name": "phases", "phases": phases}, R48, 0, "test", total_epochs=total)


def test_config_errors_name_the_file_and_the_key(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("schedule: {epochs: 3}\nsampler: {name: phases, phases: [{epochs: [0, 1]}, {epochs: [1, 2]}]}\n")
    with pytest.raises(InputError, match=r"run.yaml: sampler.phases\[1\].epochs: \[1, 2\] overlaps"):
        load_config(path)
    path.write_text("sampler: {name: fair, pool: 3}\n")
    with pytest.raises(InputError, match=r"run.yaml: sampler.pool: unknown key for sampler 'fair'"):
        load_config(path)
    path.write_text("sampler: {name: fairnas}\n")
    with pytest.raises(InputError, match=r"run.yaml: sampler.name: unknown sampler 'fairnas'; known: ccfs, ccfs_f"):
        load_config(path)


SSE_GROUPS = {"by": ["d3", "d4"], "groups": [
    [[2, 2], [2, 3], [2, 4]], [[d, 2] for d in range(3, 9)], [[8, 3], [8, 4], [8, 5]], [[d, 5] for d in range(2, 8)],
    "rest"]}


@pytest.mark.skipif(not TEST_LIST.exists(), reason="needs ../shared/data")
def test_sse_routing_splits_the_test_list_as_the_released_code():
    from paddle_supernet.io.challenge_json import read_arch_file
    from paddle_supernet.spaces.routing import CopyRouting

    route = CopyRouting.from_config(R48, SSE_GROUPS)
    counts = Counter(route.group_of(entry.arch) for entry in read_arch_file(TEST_LIST).values())
    assert [counts[i] for i in range(5)] == [4752, 9715, 4918, 9719, 15896]  # cvpr22_details.md §5.3


def test_routing_tables_that_leave_or_repeat_a_pair_are_refused():
    from paddle_supernet.spaces.routing import CopyRouting

    with pytest.raises(InputError, match=r"model.few_shot.groups: \(d3, d4\) = \[3, 3\] is assigned to no copy"):
        CopyRouting.from_config(R48, {"by": ["d3", "d4"], "groups": SSE_GROUPS["groups"][:4]})
    with pytest.raises(InputError, match=r"model.few_shot.groups\[1\]: \[2, 2\] is assigned twice \(copies 0 and 1\)"):
        CopyRouting.from_config(R48, {"by": ["d3", "d4"], "groups": [[[2, 2]], [[2, 2]], "rest"]})
    with pytest.raises(InputError, match=r"model.few_shot.groups\[0\]: \[9, 2\] is not a value of \(d3, d4\)"):
        CopyRouting.from_config(R48, {"by": ["d3", "d4"], "groups": [[[9, 2]], "rest"]})
    sse4 = CopyRouting.from_config(R48, {"by": ["d4"], "groups": [[[2]], [[5]], "rest"]})
    assert sse4.group_of(R48.smallest()) == 0 and sse4.group_of(R48.largest()) == 1


def test_phases_restricted_to_a_copy_group_draw_only_its_archs():
    from paddle_supernet.spaces.routing import CopyRouting

    route = CopyRouting.from_config(R48, SSE_GROUPS)
    phases = [{"epochs": 1, "group": g} for g in range(4)]
    sampler = build_sampler({"name": "phases", "phases": phases}, R48, 0, "test", total_epochs=4, route=route)
    for group in range(4):
        assert {route.group_of(c) for step in range(5) for c in sampler.archs(group, step, 3)} == {group}
