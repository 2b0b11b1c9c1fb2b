"""The fmnist-r20 leaderboard's rows compete on equal terms (issue 25): the same images, the same budget of
10 epochs of them in all, and the same scoring, whatever each row does within it."""
from pathlib import Path

import pytest
import yaml
from conftest import load_tool

from paddle_supernet.engine.config import load_config

REPO = Path(__file__).resolve().parents[1]
SCALE = load_config(REPO / "configs/fmnist_r20/scale.yaml")
SAME_DATA = ("name", "image_size", "train_subset", "subset_seed", "batch_size")
SAME_EVAL = ("archs", "score", "calib_images", "calib_batch_size", "val_subset", "backend")


def _rows():
    return load_tool("leaderboard").ROWS


def _stages(row) -> list[tuple[str, dict]]:
    """(name, resolved config) of every stage the row trains, its evaluated one last."""
    path = REPO / row.config
    if not row.is_chain:
        return [(path.stem, load_config(path))]
    chain = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert chain["evaluate"] == [chain["stages"][-1]["name"]]  # scored at its last stage
    return [(stage["name"], load_config(path.parent / stage["config"])) for stage in chain["stages"]]


def test_the_budget_rule_is_half_the_images_at_half_the_batch_with_the_lr_per_image_kept():
    assert (SCALE["data"]["train_subset"], SCALE["data"]["batch_size"], SCALE["optimizer"]["lr_scale"]) == (5000, 64, 0.5)
    assert SCALE["eval"]["backend"] == "shared_inference" and SCALE["eval"]["val_subset"] is None  # all 10,000


@pytest.mark.parametrize("row", _rows(), ids=lambda row: row.name)
def test_every_row_sees_the_same_images_for_ten_epochs_in_all_and_is_scored_alike(row):
    stages = _stages(row)
    assert sum(cfg["schedule"]["epochs"] for _, cfg in stages) == SCALE["schedule"]["epochs"] == 10
    for name, cfg in stages:
        assert cfg["space"] == SCALE["space"]
        assert {k: cfg["data"][k] for k in SAME_DATA} == {k: SCALE["data"][k] for k in SAME_DATA}, name
        assert cfg["optimizer"]["lr_scale"] == SCALE["optimizer"]["lr_scale"], name  # every lr per image kept
        if cfg["strategy"]["name"] != "moco":  # MoCo's own two-view augmentation is its method
            assert cfg["data"]["augment"] == SCALE["data"]["augment"], name
    scored = stages[-1][1]
    assert {k: scored["eval"][k] for k in SAME_EVAL} == {k: SCALE["eval"][k] for k in SAME_EVAL}
