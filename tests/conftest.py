"""Shared fixtures: one local Ray instance per test session, generated sample nights, the public corpus."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("POLICY_RAY_SHARED", REPO.parent / "shared"))
CORPUS = SHARED / "corpus" / "pdfs"
ACORD25_BLANK = CORPUS / "acord25_blank.pdf"


@pytest.fixture(scope="session")
def ray_session() -> Iterator[None]:
    import ray

    # Four logical CPUs on a 2-core machine: lets a test run two extractors beside Ray's own helpers.
    # address="local": a fresh instance, never a head another test (or process) started on this machine.
    ray.init(address="local", num_cpus=4, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="session")
def acord_form() -> Path | None:
    return ACORD25_BLANK if ACORD25_BLANK.exists() else None


def read_truth(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def sample_night(tmp_path_factory: pytest.TempPathFactory,
                 acord_form: Path | None) -> tuple[Path, list[dict[str, Any]]]:
    from policy_ray.sample import generate_night

    out = tmp_path_factory.mktemp("night")
    truth = generate_night(out, 200, 11, acord_form=acord_form)
    return out, read_truth(truth)


@pytest.fixture()
def small_night(tmp_path: Path, acord_form: Path | None) -> tuple[Path, list[dict[str, Any]]]:
    from policy_ray.sample import generate_night

    out = tmp_path / "night"
    truth = generate_night(out, 12, 5, acord_form=acord_form, include_hostile=False, scanned_share=0.0)
    return out, read_truth(truth)
