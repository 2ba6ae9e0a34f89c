"""Shared nights for the sample-generator tests (generated once per session: they take seconds)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from policy_ray.sample import GroundTruth, generate_night, load_ground_truth

# The shared corpus sits next to the checkout (../shared); without it certificates are drawn.
ACORD25 = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "pdfs" / "acord25_blank.pdf"
NIGHT_N = 64  # large enough for every kind, every hostile kind and a sideways scan
NIGHT_SEED = 20260115

NightFactory = Callable[[Path], Path]


@pytest.fixture(scope="session")
def acord25() -> Path | None:
    return ACORD25 if ACORD25.exists() else None


@pytest.fixture(scope="session")
def night_n() -> int:
    return NIGHT_N


@pytest.fixture(scope="session")
def make_night(acord25: Path | None) -> NightFactory:
    def make(out: Path) -> Path:
        return generate_night(out, NIGHT_N, NIGHT_SEED, acord_form=acord25, wording_pages=(1, 2),
                              include_images=True)
    return make


@pytest.fixture(scope="session")
def night_dir(make_night: NightFactory, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_night(tmp_path_factory.mktemp("night")).parent


@pytest.fixture(scope="session")
def truths(night_dir: Path) -> list[GroundTruth]:
    return load_ground_truth(night_dir / "ground_truth.jsonl")
