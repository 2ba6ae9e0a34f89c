"""Dead-letter replay: once the cause is gone, `ocr_circuit_open` and `timeout` dead letters replay to
committed rows; a replay whose cause is still there fails again with the reason recorded; each
attempt is its own batch and a killed one resumes; a file that is not the dead letter's document any
more is never re-submitted; every step is audited, and nothing is ever duplicated."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from policy_ray import failpoints
from policy_ray.adapters.lake import Lake
from policy_ray.config import DEFAULTS_DIR, Settings
from policy_ray.flows.nightly import NightRequest, run_night
from policy_ray.flows.replay import DlqFilter, history, replay, select
from policy_ray.flows.verify import verify
from policy_ray.sample import generate_night
from tests.conftest import read_truth

pytestmark = pytest.mark.usefixtures("ray_session")
HEALTHY = Settings(extractors=2, ocr=False, reconcile=False)


def _steps(lake: Lake, key: str) -> list[str]:
    return [h["step"] for h in history(lake, key)]


def _no_duplicates(lake: Lake) -> None:
    shas = lake.read("policies", ["doc_sha256"]).column(0).to_pylist()
    assert len(shas) == len(set(shas))


def _night_with_failures(tmp_path: Path, n: int, victims: int, seed: int) -> tuple[Lake, list[str], Path]:
    """A night whose first `victims` accepted documents raised inside the extractor (internal_error)."""
    night = tmp_path / "night"
    truth = read_truth(generate_night(night, n, seed, include_hostile=False, scanned_share=0.0))
    names = [t["file"] for t in truth if t["expected"] == "accept"][:victims]
    run_night(NightRequest(str(night), str(tmp_path / "lake"), date(2026, 12, 1), progress=False),
              HEALTHY.replace(test_faults=dict.fromkeys(names, "raise")))
    lake = Lake(str(tmp_path / "lake"))
    dead = select(lake, DlqFilter(category="internal_error")).to_pylist()
    assert sorted(Path(r["source_uri"]).name for r in dead) == sorted(names)
    return lake, names, night


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
    after = {Path(r["source_uri"]).name: r for r in lake.read("dead_letters").to_pylist()
             if r["batch_id"] == dead[slow]["batch_id"]}
    assert after[slow]["status"] == "resolved" and "policies_key" in after[slow]["resolution"]
    assert lake.read("policies").num_rows == policies_before + sum(r.resolved for r in results)

    # Replaying again finds nothing to do, and never duplicates.
    again = replay(lake, DlqFilter(category="timeout"), healthy, today=date(2026, 12, 3))
    assert again.selected == 0
    _no_duplicates(lake)
    for result in results:
        for key, outcome in result.outcomes.items():
            assert _steps(lake, key) == ["requeued", outcome["status"]]
    assert verify(lake).ok

    # The replay's entry pins the status it wrote: reopening a resolved dead letter by hand is caught.
    lake.update_columns("dead_letters", [{"idempotency_key": after[slow]["idempotency_key"], "status": "open"}],
                        key="idempotency_key", columns=("status",),
                        metadata={"batch_id": after[slow]["batch_id"], "event": "test: reopened by hand"})
    tampered = verify(lake)
    assert not tampered.ok and "status or resolution differ" in tampered.render()


def test_a_replay_fails_again_while_the_cause_is_there_and_each_attempt_is_its_own_batch(tmp_path: Path) -> None:
    lake, names, _ = _night_with_failures(tmp_path, 5, 2, 62)
    policies_before = lake.read("policies").num_rows

    # Attempt 1: the fault is still injected, so both fail again, with the reason recorded.
    first = replay(lake, DlqFilter(category="internal_error"), HEALTHY.replace(
        test_faults=dict.fromkeys(names, "raise")), today=date(2026, 12, 2))
    assert (first.selected, first.resolved, first.failed_again) == (2, 0, 2), first.render()
    for key, outcome in first.outcomes.items():
        assert outcome["failure_category"] == "internal_error" and "injected failure" in outcome["reason"]
        row = select(lake, DlqFilter(keys=(key,))).to_pylist()[0]
        resolution = json.loads(row["resolution"])
        assert row["status"] == "failed_again" and resolution["attempt"] == 1
        assert resolution["failure_category"] == "internal_error" and "injected failure" in resolution["reason"]
        assert _steps(lake, key) == ["requeued", "failed_again"]
    assert lake.read("policies").num_rows == policies_before
    # The replay batch's own dead letters record the attempt; they are not second queue entries.
    attempts = lake.read("dead_letters", ["status"], batch_id=first.batch_id).column(0).to_pylist()
    assert attempts == ["replay_attempt", "replay_attempt"]

    # Attempt 2, with the cause gone, is a new batch; it is killed before it closes...
    failpoints.arm("before_batch_close=raise")
    try:
        with pytest.raises(failpoints.FailpointHit):
            replay(lake, DlqFilter(category="internal_error"), HEALTHY, today=date(2026, 12, 3))
    finally:
        failpoints.arm("")
    requeued = select(lake, DlqFilter(category="internal_error")).to_pylist()
    assert {r["status"] for r in requeued} == {"requeued"}
    second_batch = {json.loads(r["resolution"])["replay_batch_id"] for r in requeued}
    assert len(second_batch) == 1 and first.batch_id not in second_batch

    # ...and the same replay run again resumes that batch instead of starting a third.
    second = replay(lake, DlqFilter(category="internal_error"), HEALTHY.replace(reconcile=True),
                    today=date(2026, 12, 4))
    assert {second.batch_id} == second_batch and (second.resolved, second.failed_again) == (2, 0), second.render()
    assert second.reconcile is not None and second.reconcile.status == "completed"
    assert not second.reconcile.deviations and not second.reconcile.drift  # completeness holds for replays
    for key in second.outcomes:
        assert _steps(lake, key) == ["requeued", "failed_again", "requeued", "resolved"]  # requeued once per attempt
        resolution = json.loads(select(lake, DlqFilter(keys=(key,), status=("resolved",))).to_pylist()[0]["resolution"])
        assert resolution["attempt"] == 2 and [h["status"] for h in resolution["history"]] == ["failed_again"]
    assert lake.read("policies").num_rows == policies_before + 2
    assert replay(lake, DlqFilter(category="internal_error"), HEALTHY).selected == 0
    _no_duplicates(lake)
    assert verify(lake).ok


def test_a_file_that_is_no_longer_the_dead_letters_document_is_not_replayed(tmp_path: Path) -> None:
    lake, names, night = _night_with_failures(tmp_path, 6, 3, 63)
    replaced, missing, intact = (night / n for n in names)
    other = tmp_path / "other"
    generate_night(other, 2, 99, include_hostile=False, scanned_share=0.0)
    replaced.write_bytes(next(other.glob("*.pdf")).read_bytes())  # a different, perfectly good document
    missing.unlink()
    before = {t: lake.read(t).num_rows for t in ("policies", "dead_letters", "documents")}

    result = replay(lake, DlqFilter(category="internal_error"), HEALTHY, today=date(2026, 12, 2))
    by_file = {Path(r["source_uri"]).name: result.outcomes[r["idempotency_key"]]
               for r in select(lake, DlqFilter(status=("resolved", "failed_again"))).to_pylist()}
    assert by_file[replaced.name]["failure_category"] == "source_changed"
    assert by_file[missing.name]["failure_category"] == "source_unreadable"
    assert by_file[intact.name]["status"] == "resolved"
    assert (result.resolved, result.failed_again) == (1, 2)
    # Only the intact document went in: one policies row, one ledger row, no dead letter.
    assert lake.read("policies").num_rows == before["policies"] + 1
    assert lake.read("dead_letters").num_rows == before["dead_letters"]
    ledger = lake.read("documents", ["source_uri"], batch_id=result.batch_id).column(0).to_pylist()
    assert [Path(u).name for u in ledger] == [intact.name]
    new_content = hashlib.sha256(replaced.read_bytes()).hexdigest()
    assert new_content not in lake.read("documents", ["doc_sha256"]).column(0).to_pylist()
    for r in select(lake, DlqFilter(status=("failed_again",))).to_pylist():
        steps = history(lake, r["idempotency_key"])
        assert [s["step"] for s in steps] == ["requeued", "failed_again"]
        assert steps[-1]["failure_category"] in ("source_changed", "source_unreadable")
    assert verify(lake).ok


def test_a_file_swapped_after_the_replay_checked_it_is_refused_by_the_driver(
        small_night: tuple[Path, list[dict[str, Any]]], tmp_path: Path) -> None:
    # The race a replay's own check cannot close: the file changes between that check and the driver's
    # hashing. The driver compares with the hash it was given, so the new bytes are never ingested.
    night, _ = small_night
    files = sorted(str(p) for p in night.iterdir() if p.suffix == ".pdf")[:3]
    swapped = files[0]
    expected = {f: hashlib.sha256(Path(f).read_bytes()).hexdigest() for f in files}
    Path(swapped).write_bytes(Path(files[1]).read_bytes())  # now another document's bytes
    lake_dir = tmp_path / "lake"
    summary = run_night(NightRequest("dlq-replay:test", str(lake_dir), date(2026, 12, 2), batch_id="replay-race",
                                     progress=False, files=tuple(files), expected_sha256=expected),
                        Settings(extractors=1, ocr=False, reconcile=False))
    lake = Lake(str(lake_dir))
    assert summary.listed == 3
    dead = {r["source_uri"]: r for r in lake.read("dead_letters").to_pylist()}
    assert dead[swapped]["failure_category"] == "source_changed" and not dead[swapped]["retryable"]
    committed = {r["source_uri"] for r in lake.read("policies").to_pylist()}
    assert swapped not in committed and files[1] in committed  # the document it now copies commits once
    assert verify(lake).ok
