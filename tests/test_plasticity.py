"""CPT / SSE: the constraint candidates against a hand-computed example; resumed runs hold the same candidates."""
import pytest

from paddle_supernet.errors import InputError
from paddle_supernet.samplers.candidates import CandidateManager, width_distance
from paddle_supernet.spaces import get_space

from helpers import assert_resume_is_exact, synthetic_data, tiny_config

R48 = get_space("cvpr22_resnet48")


def flat(digit: int) -> str:
    """A 52-character code whose 47 width digits are all ``digit`` (distance |a - b| between two)."""
    return "12222" + str(digit) * 47


def test_distance_reads_absent_as_nine_and_normalises_by_47():
    assert width_distance(flat(1), flat(3)) == 2.0
    assert width_distance(flat(0), flat(2)) == 7.0  # 0 is read as 9
    a, b = R48.largest(), R48.smallest()
    by_hand = sum(abs((int(x) or 9) - (int(y) or 9)) for x, y in zip(a[5:], b[5:])) / 47
    assert width_distance(a, b) == pytest.approx(by_hand)
    assert width_distance(a, b, skip_last_digit=True) == pytest.approx(
        sum(abs((int(x) or 9) - (int(y) or 9)) for x, y in zip(a[5:-1], b[5:-1])) / 47)


def test_replacement_follows_a_hand_computed_example():
    manager = CandidateManager(R48, 0, size=3, recent=3, knn=2, reset_every=1000)
    manager.candidates = [flat(1), flat(2), flat(7)]
    manager.recent = [flat(8), flat(5)]
    # the new arch 3: nearest candidate is 2 (distance 1); the others are 1 and 7; diversity of 2 is
    # (1 + 5) / 2 = 3; recent 8: (7 + 1) / 2 = 4, 5: (4 + 2) / 2 = 3, 3: (2 + 4) / 2 = 3 -> 8 replaces 2
    assert manager.diversity(flat(2), [flat(1), flat(7)]) == 3.0
    assert manager.update(flat(3), epoch=0, step=1) == [flat(1), flat(8), flat(7)]
    assert manager.recent == [flat(8), flat(5), flat(3)]  # FIFO of 3
    # the next arch 6: nearest 7 (1); others 1, 8; diversity of 7 = (6 + 1) / 2 = 3.5; recent 5: (4 + 3) / 2,
    # 3: (2 + 5) / 2, 6: (5 + 2) / 2 = 3.5, none higher: nothing changes; 8 left the FIFO
    assert manager.update(flat(6), epoch=0, step=2) == [flat(1), flat(8), flat(7)]
    assert manager.recent == [flat(5), flat(3), flat(6)]
    # an absent-block 0 reads as 9: recent 0 beats candidate 8's diversity (others 1, 7: (6 + 2) / 2 = 4 < 5)
    manager.recent = [flat(0)]
    assert manager.update(flat(8), epoch=0, step=3)[1] == flat(0)


def test_resets_come_from_the_local_rng_and_the_list():
    pool = [R48.sample(0, 0, i) for i in range(30)]
    one = CandidateManager(R48, 5, size=10, reset_every=4, pool=pool)
    two = CandidateManager(R48, 5, size=10, reset_every=4, pool=pool)
    for step in range(9):
        assert one.update(pool[step], 0, step) == two.update(pool[step], 0, step)
    assert set(one.candidates) <= set(pool)
    with pytest.raises(InputError, match="strategy.knn: must be at most candidates - 1 = 9"):
        CandidateManager(R48, 0, knn=10)
    with pytest.raises(InputError, match="strategy.skip_last_digit: drops the last 2022 width digit"):
        CandidateManager(get_space("cvpr21_resnet20"), 0, skip_last_digit=True)


def test_other_spaces_measure_candidates_by_option_index():
    """2021 codes: each field's option index is its channels / 4 - 1; the distance is the mean
    absolute index difference over the 20 fields (computed here from the codes alone)."""
    r20 = get_space("cvpr21_resnet20")
    manager = CandidateManager(r20, 0, size=3, knn=2)
    for seed in range(5):
        a, b = r20.sample(seed, 0, 0), r20.sample(seed, 0, 1)
        index = [[int(v) // 4 - 1 for v in code.split("-")] for code in (a, b)]
        expected = sum(abs(x - y) for x, y in zip(*index)) / 20
        assert manager.distance(a, b) == pytest.approx(expected)
    # fields 0-6 have 4 options, 7-12 have 8, 13-19 have 16: the largest indices 3, 7 and 15
    assert manager.distance(r20.smallest(), r20.largest()) == pytest.approx((7 * 3 + 6 * 7 + 7 * 15) / 20)


R48_TINY = ["space=cvpr22_resnet48", "model.small_input=true", "model.width_scale=0.125",
            "schedule.epochs=2", "strategy.name=cpt", "strategy.candidates=4", "strategy.knn=3", "strategy.recent=5",
            "strategy.reset_every=3"]


def test_a_resumed_cpt_run_holds_the_same_candidates_and_weights(tmp_path):
    # checkpoint at step 4 (epoch end); step 5 lost
    full, resumed = assert_resume_is_exact(tiny_config(R48_TINY), tmp_path, synthetic_data(), stop_after=5, saved_at=4)
    assert resumed.strategy.state_dict() == full.strategy.state_dict()
    assert len(full.strategy.state_dict()["candidates"]["all"]["candidates"]) == 4
