"""The loop with a sampler: phases restart the lr and the optimizer; resumed runs end where uninterrupted ones do."""
import math

import pytest

from paddle_supernet.engine.trainer import Trainer

from helpers import assert_resume_is_exact, synthetic_data, tiny_config

PHASES = ('sampler={"name": "phases", "cosine_unit": "epoch", "phases": [{"epochs": 1, "lr": 0.1, '
          '"width": [[16, 16], [32, 32], [64, 64]]}, {"epochs": 2, "lr": 0.4}]}')


def test_phase_learning_rates_restart_per_phase():
    trainer = Trainer(tiny_config(["schedule.epochs=3", "schedule.warmup_steps=0", "strategy.name=uniform", PHASES]),
                      None, data=synthetic_data())
    spe = trainer.batches.steps_per_epoch
    lrs = [trainer.lr_at_step(s) for s in range(3 * spe)]
    expected = [0.1] * spe + [0.4] * spe + [0.4 * (1 + math.cos(math.pi / 2)) / 2] * spe
    assert lrs == pytest.approx(expected)
    assert [s for s in range(3 * spe) if trainer._phase_starts(s)] == [spe]
    per_step = Trainer(tiny_config(["schedule.epochs=3", "schedule.warmup_steps=0", "strategy.name=uniform",
                                    PHASES.replace('"epoch"', '"step"')]), None, data=synthetic_data())
    assert per_step.lr_at_step(spe + 1) == pytest.approx(0.2 * (1 + math.cos(math.pi / (2 * spe))))
    scaled = Trainer(tiny_config(["schedule.epochs=3", "schedule.warmup_steps=0", "strategy.name=uniform", PHASES,
                                  "optimizer.lr_scale=2.5"]), None, data=synthetic_data())
    assert [scaled.lr_at_step(s) for s in range(3 * spe)] == pytest.approx([2.5 * lr for lr in expected])
    # the first phase trains only the largest arch
    codes = per_step.sampler.archs(0, 1, 3)
    assert codes == [per_step.space.largest()] * 3


@pytest.mark.parametrize("sampler", [PHASES, "sampler.name=fair", "sampler.name=sandwich"])
def test_resume_across_a_phase_boundary_reaches_the_uninterrupted_weights(tmp_path, sampler):
    cfg = tiny_config(["schedule.epochs=3", "strategy.name=uniform", "strategy.k=2", sampler])
    # checkpoints at step 3 and at the epoch end, 4: the first step of phase 2
    assert_resume_is_exact(cfg, tmp_path, synthetic_data(), stop_after=5, saved_at=4)
