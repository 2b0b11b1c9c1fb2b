"""Shared fixtures: the challenge data in ../shared/data (never copied into the repo)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("PADDLE_SUPERNET_SHARED_DATA", REPO.parent / "shared" / "data"))


def load_tool(name: str):
    """The module of ``tools/<name>.py`` (the tools are scripts, not a package), loaded afresh."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"{name}_tool", REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shared_file(relative: str) -> Path:
    """Path of a file in ../shared/data, or skip the test saying why."""
    path = SHARED_DATA / relative
    if not path.is_file():
        pytest.skip(f"challenge data {path} is absent (set PADDLE_SUPERNET_SHARED_DATA to the folder holding cvpr21/ and cvpr22/)")
    return path


@pytest.fixture
def cvpr21_archs() -> Path:
    return shared_file("cvpr21/Track1_final_archs.json")


@pytest.fixture
def cvpr21_gt() -> Path:
    return shared_file("cvpr21/gt_first_1000.json")


@pytest.fixture
def cvpr22_archs() -> Path:
    return shared_file("cvpr22/CVPR_2022_NAS_Track1_test.json")
