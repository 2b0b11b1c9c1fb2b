"""The inference fast paths with BN calibration through a predictor too: scores equal the dygraph path's."""
import pytest

from paddle_supernet.engine.trainer import Trainer
from paddle_supernet.evaluator import Evaluator
from paddle_supernet.spaces import get_space

from helpers import synthetic_data, tiny_config

R48 = ["space=cvpr22_resnet48", "model.small_input=true", "model.width_scale=0.125", "strategy.name=uniform"]


@pytest.mark.parametrize("backend", ["inference", "shared_inference"])
@pytest.mark.parametrize("extra", [[], R48], ids=["cvpr21_resnet20", "cvpr22_resnet48"])
def test_predictor_calibration_scores_as_dygraph(tmp_path, extra, backend):
    data = synthetic_data(n_val=40)
    # calibration batches of 16, 16 and 8 images: the image-weighted average is exercised
    Trainer(tiny_config(extra + ["eval.batch_size=16", "eval.calib_images=40"]), tmp_path, data=data, quiet=True).fit()
    space = get_space("cvpr22_resnet48" if extra else "cvpr21_resnet20")
    ckpt = tmp_path / "checkpoint.pdparams"
    dygraph = Evaluator.from_checkpoint(ckpt, ["eval.score=neg_loss"], data=data)
    fast = Evaluator.from_checkpoint(ckpt, ["eval.score=neg_loss", f"eval.backend={backend}",
                                            "eval.calib_backend=inference"], data=data)
    for code in (space.sample(1), space.largest(), space.smallest(), space.sample(2)):
        assert fast.score(code) == pytest.approx(dygraph.score(code), abs=1e-5)
    accuracy = Evaluator.from_checkpoint(ckpt, [f"eval.backend={backend}", "eval.calib_backend=inference"], data=data)
    assert accuracy.score(space.largest()) == Evaluator.from_checkpoint(ckpt, data=data).score(space.largest())



def test_a_calibration_net_run_in_dygraph_still_shares_one_program():
    """A dygraph forward of the calibration net (each shared program is checked against one) leaves no
    tensors on its layers (a Layer would keep them as buffers, and its program could not be shared);
    the shared program's statistics are those of its own images."""
    import numpy as np
    import paddle

    from paddle_supernet.inference_path import _CalibrationNet
    from paddle_supernet.nn.resnet20 import StandaloneResNet20
    from paddle_supernet.shared_predictor import SharedPredictors

    rng = np.random.default_rng(0)
    first, second = (rng.normal(i, 1.0, size=(4, 3, 8, 8)).astype("float32") for i in (0, 3))
    runner = SharedPredictors(threads=1)
    for seed in (1, 2, 3):
        paddle.seed(seed)
        net = _CalibrationNet(StandaloneResNet20(get_space("cvpr21_resnet20").smallest(), num_classes=3))
        net.eval()
        with paddle.no_grad():
            net(paddle.to_tensor(first))
            expected = [t.numpy() for t in net(paddle.to_tensor(second))[1:]]
        got = runner.outputs(net, [second])[0][1:]
        assert len(got) == len(expected) > 0
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)
    assert runner.built == 1
