"""Each space owns its ``model.*`` options: another space's option is refused by name, in the config
and when a supernet is built, and a space checks its own values (``SearchSpace.check_config``)."""
import pytest

from paddle_supernet.engine.config import load_config
from paddle_supernet.errors import InputError
from paddle_supernet.spaces.registry import SPACES, check_space_options


@pytest.mark.parametrize("overrides, message", [
    (["space=cvpr22_resnet48", "model.width_map={4: 5}"],
     r"--set: model.width_map: is \{4: 5\}, an option of cvpr21_resnet20, not of cvpr22_resnet48"),
    (["space=cvpr22_resnet48", "model.activation=prelu"],
     "model.activation: is 'prelu', an option of cvpr21_resnet20, not of cvpr22_resnet48"),
    (["model.bn_stats=frozen"], "model.bn_stats: is 'frozen', an option of cvpr22_resnet48, not of cvpr21_resnet20"),
    (["model.small_input=true"], "model.small_input: is True, an option of cvpr22_resnet48, not of cvpr21_resnet20"),
])
def test_an_option_of_another_space_is_refused_naming_both(overrides, message):
    with pytest.raises(InputError, match=message):
        load_config(None, overrides)


def test_each_space_keeps_its_own_options_and_the_shared_ones():
    cfg = load_config(None, ["space=cvpr22_resnet48", "model.bn_stats=frozen", "model.small_input=true",
                             "model.few_shot={by: [d3], groups: [[2], rest]}"])
    assert cfg["model"]["bn_stats"] == "frozen" and cfg["model"]["few_shot"]["by"] == ["d3"]
    cfg = load_config(None, ["model.width_map={4: 5, 8: 9}", "model.activation=prelu"])
    assert cfg["model"]["width_map"] == {4: 5, 8: 9}
    # the options' "off" values are the config defaults, so a default config passes every space
    for name in SPACES.names():
        for key, off in SPACES.get(name).model_options.items():
            assert load_config(None)["model"][key] == off, (name, key)


def test_a_space_of_ones_own_declares_and_checks_its_options(monkeypatch):
    from paddle_supernet.spaces.cvpr21_resnet20 import Cvpr21ResNet20

    class Wide(Cvpr21ResNet20):
        model_options = {**Cvpr21ResNet20.model_options, "bn_stats": "batch"}

        @classmethod
        def check_config(cls, cfg, file):
            if cfg["model"].get("bn_stats") not in ("batch", "frozen"):
                raise InputError("must be batch or frozen", file=file, key="model.bn_stats")

    Wide.name = "wide_r20"
    monkeypatch.setitem(SPACES._items, "wide_r20", Wide)
    check_space_options({"space": "wide_r20", "model": {"bn_stats": "frozen", "width_map": {4: 5}}}, "w.yaml")
    with pytest.raises(InputError, match="w.yaml: model.bn_stats: must be batch or frozen"):
        check_space_options({"space": "wide_r20", "model": {"bn_stats": "running"}}, "w.yaml")
    with pytest.raises(InputError, match="w.yaml: model.small_input: is True, an option of cvpr22_resnet48, not of "
                                         "wide_r20"):
        check_space_options({"space": "wide_r20", "model": {"small_input": True}}, "w.yaml")


def test_building_a_supernet_refuses_another_spaces_option():
    pytest.importorskip("paddle")
    from paddle_supernet.models import build_supernet

    cfg = load_config(None, ["space=cvpr22_resnet48"])
    cfg["model"]["width_map"] = {4: 5}  # set after validation, as a hand-made config would
    with pytest.raises(InputError, match="model.width_map: is \\{4: 5\\}, an option of cvpr21_resnet20"):
        build_supernet(cfg, num_classes=10)
