"""Dead-letter replay: once the cause is gone, `ocr_circuit_open` and `timeout` dead letters replay to
committed rows, every step is audited, and nothing is ever duplicated."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from policy_ray.adapters.lake import Lake
from policy_ray.config import DEFAULTS_DIR, Settings
from policy_ray.flows.nightly import NightRequest, run_night
from policy_ray.flows.replay import DlqFilter, replay, select
from policy_ray.flows.verify import verify
from policy_ray.sample import generate_night
from tests.conftest import read_truth

pytestmark = pytest.mark.usefixtures("ray_session")


def test_replay_resolves_dead_letters_once_the_cause_is_gone(tmp_path: Path) -> None:
    night = tmp_path / "night"
    truth = read_truth(generate_night(night, 12, 61, include_hostile=False, scanned_share=0.25))
    scans = [t["file"] for t in truth if t["scanned"]]
    slow = next(t["file"] for t in truth if t["expected"] == "accept")
    assert len(scans) >= 2
    # Night 1: OCR is "down" (a breaker that opens on any queue) and one document hangs its worker.
    routing = tmp_path / "routing.toml"
    routing.write_text((DEFAULTS_DIR / "routing.toml").read_text().replace("max_queue_depth = 1000",
                                                                            "max_queue_depth = 0"))
    broken = Settings(extractors=2, ocr_workers=1, ocr_engine="tesseract", routing_path=routing, max_attempts=1,
                      document_deadline_s=6, test_faults={slow: "hang"}, reconcile=False,
                      ocr_breaker_name=f"b-{uuid.uuid4().hex[:6]}")
    lake_dir = tmp_path / "lake"
    run_night(NightRequest(str(night), str(lake_dir), date(2026, 12, 1), progress=False), broken)
    lake = Lake(str(lake_dir))
    dead = {Path(r["source_uri"]).name: r for r in select(lake, DlqFilter()).to_pylist()}
    assert dead[slow]["failure_category"] == "timeout"
    assert sum(dead[s]["failure_category"] == "ocr_circuit_open" for s in scans if s in dead) >= 1
    policies_before = lake.read("policies").num_rows

    # The cause is gone: replay what failed for those reasons.
    healthy = Settings(extractors=2, ocr_workers=1, ocr_engine="tesseract", reconcile=False,
                       ocr_breaker_name=f"b-{uuid.uuid4().hex[:6]}")
    results: list[Any] = []
    for category in ("timeout", "ocr_circuit_open"):
        results.append(replay(lake, DlqFilter(category=category), healthy, today=date(2026, 12, 2)))
    assert all(r.selected >= 1 and r.resolved >= 1 for r in results), [r.render() for r in results]
    assert results[0].resolved == results[0].selected  # the hang is gone: the document commits
    for row in lake.read("dead_letters").to_pylist():
        if row["status"] == "failed_again":  # the breaker is closed now: only a poor scan may fail again
            assert "ocr_circuit_open" not in row["resolution"], row["resolution"]
    after = {Path(r["source_uri"]).name: r for r in lake.read("dead_letters").to_pylist()
             if r["batch_id"] == dead[slow]["batch_id"]}
    assert after[slow]["status"] == "resolved" and "policies_key" in after[slow]["resolution"]
    assert lake.read("policies").num_rows == policies_before + sum(r.resolved for r in results)

    # Replaying again finds nothing to do, and never duplicates.
    again = replay(lake, DlqFilter(category="timeout"), healthy, today=date(2026, 12, 3))
    assert again.selected == 0
    keys = lake.read("policies", ["doc_sha256"]).column(0).to_pylist()
    assert len(keys) == len(set(keys))
    stages = lake.read("audit_log", ["stage"]).column(0).to_pylist()
    assert stages.count("replayed") == sum(r.selected for r in results)
    assert verify(lake).ok
