"""MoCo stage: InfoNCE against numpy, the EMA rule, the queue's FIFO order, exact resume, the neck dropped."""
import numpy as np
import paddle
import pytest

from paddle_supernet.engine.trainer import Trainer
from paddle_supernet.errors import InputError
from paddle_supernet.models import build_supernet
from paddle_supernet.nn.contrastive import info_nce

from helpers import assert_resume_is_exact, synthetic_data, tiny_config

MOCO = ["space=cvpr22_resnet48", "model.small_input=true", "model.width_scale=0.125",
        "model.contrastive={dim: 8, queue: 40}", "strategy.name=moco", "strategy.temperature=0.2",
        "strategy.momentum=0.9", "data.augment.resized_crop=[0.3, 1.0]", "data.augment.crop_padding=0"]


def test_info_nce_equals_a_numpy_computation():
    rng = np.random.default_rng(0)
    q, k = rng.normal(size=(5, 8)), rng.normal(size=(5, 8))
    queue = rng.normal(size=(8, 12))
    q, k = q / np.linalg.norm(q, axis=1, keepdims=True), k / np.linalg.norm(k, axis=1, keepdims=True)
    logits = np.concatenate([(q * k).sum(1, keepdims=True), q @ queue], axis=1) / 0.07
    expected = np.mean(np.log(np.exp(logits).sum(1)) - logits[:, 0])
    got = info_nce(*(paddle.to_tensor(a.astype("float32")) for a in (q, k, queue)), temperature=0.07)
    assert float(got) == pytest.approx(expected, rel=1e-5)


def _model():
    cfg = tiny_config(MOCO)
    return build_supernet(cfg, num_classes=4)


def test_momentum_update_and_queue_fifo():
    model = _model()
    key_before = {k: v.numpy().copy() for k, v in model.key_backbone.state_dict().items()}
    query = model.backbone.state_dict()
    for name, value in key_before.items():  # keys start as the query encoder
        np.testing.assert_array_equal(value, query[name].numpy(), err_msg=name)
    with paddle.no_grad():
        for p in model.backbone.parameters():
            p.set_value(p + 1.0)
        bn = next(name for name in query if name.endswith("_mean"))
        query[bn].set_value(query[bn] + 2.0)
    model.momentum_update(0.9)
    after = model.key_backbone.state_dict()
    for name, value in key_before.items():
        np.testing.assert_allclose(after[name].numpy(), 0.9 * value + 0.1 * query[name].numpy(), rtol=1e-6, atol=1e-6,
                                   err_msg=name)
    assert not np.array_equal(after[bn].numpy(), key_before[bn])  # BN statistics move too, as released
    start = model.queue.numpy().copy()
    batches = [np.full((16, 8), i + 1.0, np.float32) for i in range(3)]
    for batch in batches:
        model.enqueue(paddle.to_tensor(batch))
    queue = model.queue.numpy()
    # 48 keys into 40 columns: batch 3's last 8 keys overwrite columns 0-7 (batch 1's first), oldest first out
    assert (queue[:, :8] == 3).all() and (queue[:, 8:16] == 1).all() and (queue[:, 16:32] == 2).all()
    assert (queue[:, 32:40] == 3).all() and int(model.queue_ptr.numpy()[0]) == 8
    assert start.shape == queue.shape and np.allclose(np.linalg.norm(start, axis=0), 1.0)


def test_two_views_start_with_the_single_view_batch():
    train, _ = synthetic_data()
    augment = {"crop_padding": 0, "resized_crop": [0.3, 1.0], "flip": True, "brightness": 0.0, "contrast": 0.0,
               "rotation": 0.0, "probability": 0.5}
    one = train.train_batches(16, augment, seed=3).batch(1, 2)
    two = train.train_batches(16, augment, seed=3, views=2).batch(1, 2)
    assert two[0].shape[0] == 32 and two[1].shape[0] == 16
    np.testing.assert_array_equal(two[0].numpy()[:16], one[0].numpy())
    assert not np.array_equal(two[0].numpy()[16:], one[0].numpy())


def test_moco_run_resumes_exactly_and_the_next_stage_drops_the_neck(tmp_path):
    data = synthetic_data()
    full, _ = assert_resume_is_exact(tiny_config(MOCO), tmp_path, data, stop_after=5, saved_at=4)
    a = full.model.state_dict()
    assert "queue" in a and any(k.startswith("key_neck.") for k in a)
    assert not np.array_equal(a["queue"].numpy(), _model().queue.numpy())  # keys entered the queue
    stage2 = tiny_config(["space=cvpr22_resnet48", "model.small_input=true", "model.width_scale=0.125",
                          "strategy.name=uniform", f"checkpoint.init_from={tmp_path / 'full' / 'checkpoint.pdparams'}"])
    trainer = Trainer(stage2, tmp_path / "stage2", data=data)
    trainer._resume_or_init()
    plain = trainer.model.state_dict()
    assert set(plain) == {k[len("backbone."):] for k in a if k.startswith("backbone.")}
    for key, value in plain.items():
        np.testing.assert_array_equal(value.numpy(), a[f"backbone.{key}"].numpy(), err_msg=key)
    # a stage-1 checkpoint scores like the plain supernet holding its query backbone
    from paddle_supernet.evaluator import Evaluator

    moco = Evaluator.from_checkpoint(tmp_path / "full" / "checkpoint.pdparams", data=data)
    same = Evaluator(trainer.model, moco.space, moco.calib_batches, moco.val_batches, moco.score_name)
    code = moco.space.sample(0, 0, 3)
    assert moco.score(code) == same.score(code)


def test_moco_needs_its_model_section():
    with pytest.raises(InputError, match="model.contrastive: the moco strategy needs model.contrastive"):
        tiny_config(["space=cvpr22_resnet48", "strategy.name=moco"])
    with pytest.raises(InputError, match=r"model.contrastive: must be \{dim: N, queue: N\}"):
        tiny_config(MOCO + ["model.contrastive={dim: 8}"])
    with pytest.raises(InputError, match="strategy.query: must be one of largest, sampled"):
        Trainer(tiny_config(MOCO + ["strategy.query=all"]), None, data=synthetic_data())


def test_the_2021_supernet_trains_with_moco_and_its_features_feed_the_head(tmp_path):
    cfg = tiny_config(["model.contrastive={dim: 8, queue: 32}", "strategy.name=moco", "strategy.bn_splits=2",
                       "data.augment.resized_crop=[0.3, 1.0]", "data.augment.crop_padding=0", "schedule.epochs=1"])
    trainer = Trainer(cfg, tmp_path, data=synthetic_data())
    net = trainer.model.backbone
    assert net.feature_width == 64
    net.set_active(net.space.smallest())
    x = paddle.to_tensor(np.random.default_rng(0).normal(size=(4, 3, 8, 8)).astype("float32"))
    net.eval()
    np.testing.assert_allclose(net(x).numpy(), net.head(net.features(x), option=None).numpy(), atol=1e-6)
    assert net.features(x).shape == [4, int(net.space.decode(net.space.smallest()).fields[18])]
    before = net.stem_conv.weight.numpy().copy()
    trainer.fit()
    assert not np.array_equal(before, trainer.model.backbone.stem_conv.weight.numpy())
