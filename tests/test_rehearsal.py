"""The dress rehearsal (issue 27): what it changes in a shipped recipe, that it covers every recipe,
and its fast subset (one chain per track, killed and resumed, every backend) end to end. The two-rank
runs are in the full rehearsal's report; the fault they found has its own test in test_parallel.py."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, SHARED_DATA, shared_file

from paddle_supernet.engine.config import load_config, merge_config
from paddle_supernet.pipeline import load_chain
from paddle_supernet.rehearsal import PRODUCED_PATH_KEYS, Setting, compressed_schedule, rehearsal_overrides

sys.path.insert(0, str(REPO / "tools"))
import rehearse  # noqa: E402

#: the only keys a rehearsal may change (sampler.phases only in its epochs)
CHANGED = {"data.root", "data.batch_size", "data.train_subset", "data.val_subset", "data.workers", "schedule.epochs",
           "schedule.cosine_length", *PRODUCED_PATH_KEYS}


def flatten(node, prefix=""):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): node}


def stage_configs():
    for recipe in rehearse.shipped_recipes():
        data = yaml.safe_load((REPO / recipe).read_text())
        if isinstance(data, dict) and "stages" in data:
            for stage in load_chain(REPO / recipe)["stages"]:
                yield stage["config"]
        else:
            yield str(REPO / recipe)


SETTING = Setting(data_roots={"cifar100": "reh/data/cifar100", "imagenet": "reh/data/imagenet"}, root="reh",
                  shared_data="shared")


@pytest.mark.parametrize("config", sorted(set(stage_configs())), ids=lambda p: Path(p).relative_to(REPO).as_posix())
def test_a_rehearsal_changes_only_data_size_steps_evaluation_and_its_own_paths(config):
    shipped = load_config(config)
    rehearsed = merge_config(shipped, rehearsal_overrides(shipped, SETTING), config)
    before, after = flatten(shipped), flatten(rehearsed)
    changed = {key for key in set(before) | set(after) if before.get(key) != after.get(key)}
    phases = shipped.get("sampler", {}).get("phases")
    if phases:
        changed.discard("sampler.phases")
        assert [dict(p, epochs=None) for p in after["sampler.phases"]] == [dict(p, epochs=None) for p in phases]
        assert all(p["epochs"] == 1 for p in after["sampler.phases"])
    assert {key for key in changed if not key.startswith("eval.")} <= CHANGED, changed
    # image size, widths, teacher, losses, sampler, copies, queue sizes and lr schedule shape stay
    for key in ("data.image_size", "model.width_scale", "strategy.name", "sampler.name", "model.few_shot",
                "model.contrastive.queue", "schedule.warmup_steps", "optimizer.lr"):
        assert after.get(key) == before.get(key), key
    assert rehearsed["data"]["train_subset"] == rehearsed["data"]["batch_size"]  # one step an epoch
    for key in PRODUCED_PATH_KEYS:  # nothing written outside the rehearsal folder
        if str(after.get(key) or "").startswith("runs"):
            pytest.fail(f"{key} still points at {after[key]}")


def test_phases_shrink_to_one_epoch_each_and_the_cosine_in_proportion():
    cfg = {"schedule": {"epochs": 70, "cosine_length": 70},
           "sampler": {"phases": [{"epochs": 5, "lr": 0.008}, {"epochs": 65, "width": [[1, 3]] * 4}]}}
    assert compressed_schedule(cfg) == {"schedule.epochs": 2, "sampler.phases": [
        {"epochs": 1, "lr": 0.008}, {"epochs": 1, "width": [[1, 3]] * 4}], "schedule.cosine_length": 2}
    assert compressed_schedule({"schedule": {"epochs": 300}, "sampler": {}}, steps=3) == {"schedule.epochs": 3}
    assert compressed_schedule({"schedule": {"epochs": 1}, "sampler": {}}) == {"schedule.epochs": 1}


def test_moco_keeps_its_batch_chunks_and_the_rehearsal_raises_the_batch_instead():
    cfg = load_config(REPO / "configs/cvpr22/winner/moco.yaml")
    values = dict(item.split("=", 1) for item in rehearsal_overrides(cfg, SETTING))
    assert values["data.batch_size"] == str(cfg["strategy"]["bn_splits"]) == "8"
    assert "strategy.bn_splits" not in values


def test_every_shipped_config_is_rehearsed_as_a_chain_a_stage_alone_or_is_a_base():
    covered = {Path(c).resolve() for c in stage_configs()} | {(REPO / b).resolve() for b in rehearse.BASES}
    shipped = {p.resolve() for track in ("cvpr21", "cvpr22") for p in (REPO / "configs" / track).rglob("*.yaml")
               if "fmnist" not in p.parts and "stages" not in (yaml.safe_load(p.read_text()) or {})}
    assert shipped - covered == set()


def test_the_fast_rehearsal_runs_one_chain_per_track_end_to_end(tmp_path):
    shared_file("cvpr22/CVPR_2022_NAS_Track1_test.json")
    shared_file("cvpr21/Track1_final_archs.json")
    env = {**os.environ, "PADDLE_SUPERNET_SHARED_DATA": str(SHARED_DATA), "OMP_NUM_THREADS": "2"}
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "rehearse.py"), "--fast",
                           "--root", str(tmp_path / "reh"), "--report", str(tmp_path / "rehearsal.md")],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = json.loads((tmp_path / "reh" / "report.json").read_text())["rows"]
    assert [r["recipe"] for r in rows] == list(rehearse.FAST)
    for row in rows:
        assert row["status"] == "ok" and row["resumed"], row
        assert row["evaluated"] >= 2 and row["backend_spread"] < 1e-3, row
    assert "| `configs/cvpr22/chain_baseline.yaml` | ok |" in (tmp_path / "rehearsal.md").read_text()
