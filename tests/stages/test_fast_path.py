"""The page-triage fast path commits exactly what the slow path (geometry and tables on every page) does."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from policy_ray.config import Settings, load_pipeline_data
from policy_ray.core.identity import idempotency_key, sha256_hex
from policy_ray.core.outcomes import DocumentTask
from policy_ray.stages.extract import ExtractStage


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory, acord_form: Path | None) -> Path:
    from policy_ray.sample import generate_night

    out = tmp_path_factory.mktemp("fast_path")
    generate_night(out, 30, 71, acord_form=acord_form, wording_pages=(2, 6), scanned_share=0.1)
    return out


def test_triage_and_full_geometry_produce_identical_records(night: Path) -> None:
    fast = ExtractStage(Settings(triage=True), load_pipeline_data(Settings()))
    slow = ExtractStage(Settings(triage=False), load_pipeline_data(Settings()))
    compared = skipped_pages = 0
    for path in sorted(night.glob("*.pdf")):
        data = path.read_bytes()
        sha = sha256_hex(data)
        task = DocumentTask(str(path), sha, len(data), "b", date(2026, 12, 1), idempotency_key(sha, "b"))
        a, b = fast.process(task), slow.process(task)
        assert (a.status, a.normalized_sha256) == (b.status, b.normalized_sha256), path.name
        assert (a.failure.category if a.failure else None) == (b.failure.category if b.failure else None), path.name
        compared += a.status == "accepted"
        skipped_pages += len((a.raw_payload or {}).get("skipped_pages", ()))
    assert compared >= 15 and skipped_pages >= 20  # the fast path really skipped the wording
