"""Sub-supernet enhancing: copies start from one supernet, each group trains only its copy, evaluation routes."""
import numpy as np

from paddle_supernet.engine.trainer import Trainer
from paddle_supernet.evaluator import Evaluator
from paddle_supernet.spaces import get_space

from helpers import assert_resume_is_exact, synthetic_data, tiny_config

R48 = get_space("cvpr22_resnet48")
BASE = ["space=cvpr22_resnet48", "model.small_input=true", "model.width_scale=0.125", "schedule.epochs=1",
        "strategy.name=cpt", "strategy.candidates=3", "strategy.knn=2", "strategy.recent=4", "strategy.reset_every=2"]
SSE4 = ['model.few_shot={"by": ["d4"], "groups": [[[2]], [[5]], "rest"]}', "schedule.epochs=2",
        'sampler={"name": "phases", "phases": [{"epochs": 1, "group": 0, "lr": 0.05}, {"epochs": 1, "group": 1}]}']


def _arrays(layer):
    return {k: v.numpy().copy() for k, v in layer.state_dict().items()}


def test_sse_trains_each_group_s_copy_only_and_evaluates_through_the_copy(tmp_path):
    data = synthetic_data()
    plain = Trainer(tiny_config(BASE), tmp_path / "cpt", data=data)
    plain.fit()
    plain_weights = _arrays(plain.model)
    cfg = tiny_config(BASE + SSE4 + [f"checkpoint.init_from={tmp_path / 'cpt' / 'checkpoint.pdparams'}"])
    sse = Trainer(cfg, tmp_path / "sse", data=data)
    sse._resume_or_init()
    for copy in sse.model.copies:
        for key, value in _arrays(copy).items():
            np.testing.assert_array_equal(value, plain_weights[key], err_msg=key)
    sse.fit()
    trained = [_arrays(copy) for copy in sse.model.copies]
    conv = "blocks.1.conv1.weight"
    assert not np.array_equal(trained[0][conv], plain_weights[conv])
    assert not np.array_equal(trained[1][conv], plain_weights[conv])
    for key, value in trained[2].items():  # the "rest" copy was in no phase: untouched
        np.testing.assert_array_equal(value, plain_weights[key], err_msg=key)
    assert set(sse.strategy.state_dict()["candidates"]) == {"group0", "group1"}
    # evaluation routes each arch to its copy: a "rest" arch scores as with the plain supernet
    rest = next(c for c in (R48.sample(3, 0, i) for i in range(100)) if R48.decode(c).depths[3] in (3, 4))
    deep = next(c for c in (R48.sample(3, 0, i) for i in range(100)) if R48.decode(c).depths[3] == 5)
    few_shot = Evaluator.from_checkpoint(tmp_path / "sse" / "checkpoint.pdparams", data=data)
    one = Evaluator.from_checkpoint(tmp_path / "cpt" / "checkpoint.pdparams", data=data)
    assert few_shot.score(rest) == one.score(rest)
    assert few_shot.model.active == 2 and (few_shot.score(deep), few_shot.model.active)[1] == 1


def test_released_scope_trains_every_copy_and_a_resume_across_groups_is_exact(tmp_path):
    data = synthetic_data()
    Trainer(tiny_config(BASE), tmp_path / "cpt", data=data).fit()
    init = f"checkpoint.init_from={tmp_path / 'cpt' / 'checkpoint.pdparams'}"
    cfg = tiny_config(BASE + SSE4 + [init])
    # saved at step 4, the first step of group 1
    full, resumed = assert_resume_is_exact(cfg, tmp_path, data, stop_after=5, saved_at=4)
    assert resumed.strategy.state_dict() == full.strategy.state_dict()
    a = _arrays(full.model)
    released = tiny_config(BASE + [SSE4[0].replace('"rest"]', '"rest"], "optimize": "all"'), *SSE4[1:], init])
    everything = Trainer(released, tmp_path / "all", data=data)
    everything.fit()
    # over every copy, copy 0's zeroed gradients still get momentum and weight decay during group 1's
    # phase, as released (trap T14); a copy never trained has no gradient and stays as it was
    weight = "blocks.1.conv1.weight"
    assert not np.array_equal(_arrays(everything.model.copies[0])[weight], a[f"copies.0.{weight}"])
    np.testing.assert_array_equal(_arrays(everything.model.copies[1])[weight], a[f"copies.1.{weight}"])
    np.testing.assert_array_equal(_arrays(everything.model.copies[2])[weight], a[f"copies.2.{weight}"])


def test_a_finished_sse_stage_is_resumed_as_finished(tmp_path):
    """Found by the rehearsal (issue 27): resuming a finished stage whose copy groups have their own
    optimizers asked for the phase of the epoch after the last ("epoch 2 is in no phase")."""
    data = synthetic_data()
    Trainer(tiny_config(BASE), tmp_path / "cpt", data=data).fit()
    cfg = tiny_config(BASE + SSE4 + [f"checkpoint.init_from={tmp_path / 'cpt' / 'checkpoint.pdparams'}"])
    first = Trainer(cfg, tmp_path / "sse", data=data)
    first.fit()
    before = _arrays(first.model)
    again = Trainer(cfg, tmp_path / "sse", data=data)
    again.fit()
    assert again.finished and again.step == first.step
    for key, value in _arrays(again.model).items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)
