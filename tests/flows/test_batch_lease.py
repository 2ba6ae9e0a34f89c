"""The batch lease: taken atomically by one of two processes started at once, renewed while the
night runs, lost to an operator's take-over, and taken over from a dead head on another host."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from policy_ray import logs
from policy_ray.adapters.lake import Lake
from policy_ray.config import Settings
from policy_ray.flows.batch_lease import BatchBusy, BatchLease
from policy_ray.flows.nightly import NightRequest, run_night

REPO = Path(__file__).resolve().parents[2]
NIGHT = date(2026, 12, 1)


@pytest.fixture()
def lake(tmp_path: Path) -> Lake:
    lk = Lake(str(tmp_path / "lake"))
    lk.ensure_tables()
    return lk


def _take(lake: Lake, batch_id: str = "b1", *, lease_s: float = 60, take_over: bool = False) -> BatchLease:
    return BatchLease.take(lake, batch_id=batch_id, batch_date=NIGHT, input_uri="/night", routing_matrix_version="v",
                           lease_s=lease_s, take_over=take_over)


def _events(lake: Lake) -> list[str]:
    versions = range(lake.table("batches").version() + 1)
    return [str((lake.commit_info("batches", v) or {}).get("event")) for v in versions]


def test_a_held_lease_turns_a_second_run_away_and_is_renewed(lake: Lake) -> None:
    lease = _take(lake, lease_s=0.6)
    with pytest.raises(BatchBusy, match="take-over-lease"):
        _take(lake)
    until = lake.batch_row("b1")["lease_until"]  # type: ignore[index]
    time.sleep(0.25)
    lease.renew_if_due()  # a third of the lease has passed: renewed
    assert lease.renewals == 1 and lake.batch_row("b1")["lease_until"] > until  # type: ignore[index]
    assert _events(lake)[-2:] == ["run_started", "lease_renewed"]
    lease.end()


def test_a_run_whose_lease_was_taken_over_stops_before_writing_again(lake: Lake) -> None:
    first = _take(lake)
    second = _take(lake, take_over=True)  # the operator declared the first run dead
    assert second.run_count == 2 and _events(lake)[-1] == "lease_taken_over"
    assert (lake.commit_info("batches", lake.table("batches").version()) or {})["taken_over_from"] == first.owner
    with pytest.raises(BatchBusy, match="lost its lease"):
        first.check()
    with pytest.raises(BatchBusy, match="lost its lease"):
        first.renew()
    second.check()


def test_a_claim_that_lands_between_the_read_and_the_commit_wins(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injected: another run's claim commits right after this run read the batch row. This
    run's commit must fail (the table moved), and its second look must see the other claim."""
    import policy_ray.flows.batch_lease as batch_lease

    real_row, other = batch_lease._row, cast(list[Any], [])

    def read_then_lose_the_race(reader: Lake, snapshot: object, batch_id: str) -> object:
        row = real_row(reader, snapshot, batch_id)  # type: ignore[arg-type]
        if not other:
            other.append(None)
            other[0] = _take(Lake(lake.uri))  # another writer (own Lake object) claims the batch now
        return row

    monkeypatch.setattr(batch_lease, "_row", read_then_lose_the_race)
    with pytest.raises(BatchBusy):
        _take(lake)
    assert lake.batch_row("b1")["lease_owner"] == other[0].owner  # type: ignore[index]
    assert _events(lake).count("run_started") == 1


_TAKER = """
import sys, time
from datetime import date
from policy_ray.adapters.lake import Lake
from policy_ray.flows.batch_lease import BatchBusy, BatchLease
lake, start, batches = Lake(sys.argv[1]), float(sys.argv[2]), sys.argv[3].split(",")
for i, batch in enumerate(batches):
    time.sleep(max(0.0, start + 1.5 * i - time.time()))
    try:
        BatchLease.take(lake, batch_id=batch, batch_date=date(2026, 12, 1), input_uri="/night",
                        routing_matrix_version="v", lease_s=600)
        print("WON", batch, flush=True)
    except BatchBusy:
        print("BUSY", batch, flush=True)
"""


def test_two_processes_taking_one_lease_at_once_end_with_one_holder(lake: Lake, tmp_path: Path) -> None:
    script = tmp_path / "take.py"
    script.write_text(_TAKER)
    batches = [f"race-{i}" for i in range(4)]
    start = time.time() + 4.0  # both race for each batch at the same instant, once their imports are done
    procs = [subprocess.Popen([sys.executable, str(script), lake.uri, str(start), ",".join(batches)], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _, err in outputs]
    lines = [line.split() for out, _ in outputs for line in out.splitlines()]
    for batch in batches:
        assert sorted(verdict for verdict, b in lines if b == batch) == ["BUSY", "WON"], (batch, lines)
        assert lake.batch_row(batch)["run_count"] == 1  # type: ignore[index]


@pytest.mark.usefixtures("ray_session")
def test_a_dead_head_on_another_host_is_taken_over_by_the_operator(tmp_path: Path) -> None:
    from policy_ray.cli import main
    from policy_ray.sample import generate_night

    night, lake_dir = tmp_path / "night", tmp_path / "lake"
    generate_night(night, 4, 3, include_hostile=False, scanned_share=0.0)
    lake = Lake(str(lake_dir))
    lake.ensure_tables()
    request = NightRequest(str(night), str(lake_dir), NIGHT, progress=False)
    # A run on a head node that died: its lease has hours to go and no process here to check on.
    from policy_ray.flows.nightly import batch_id_for

    batch_id = batch_id_for(NIGHT, str(night.resolve()))
    now = logs.now_utc()
    lake.swap("batches", lambda _: ([{"batch_id": batch_id, "batch_date": NIGHT, "input_uri": str(night),
                                      "status": "running", "started_at": now, "run_count": 1,
                                      "lease_owner": "head-that-died:4242:deadbeef",
                                      "lease_until": now + timedelta(hours=5)}], {"batch_id": batch_id}),
              key="batch_id")
    args = ["ingest", str(night), "--lake", str(lake_dir), "--batch-date", NIGHT.isoformat(), "--no-progress",
            "--no-ocr", "--no-reconcile", "--extractors", "1"]
    assert main(args) == 3  # the lease is live as far as anyone here can tell
    assert lake.read("documents").num_rows == 0
    # The operator takes it over; with a short lease the night renews it while it runs.
    summary = run_night(NightRequest(request.input_uri, request.lake_uri, NIGHT, progress=False, take_over_lease=True),
                        Settings(extractors=1, ocr=False, reconcile=False, batch_lease_s=0.9, commit_every_docs=1))
    assert summary.listed == 4 and summary.processed == 4
    events = _events(lake)
    assert "lease_taken_over" in events and "lease_renewed" in events
    row = lake.batch_row(batch_id)
    assert row is not None and row["status"] == "completed" and row["lease_owner"] is None and row["run_count"] == 2
    assert main([*args, "--take-over-lease"]) == 0  # the flag itself: a completed batch, nothing left to do


@pytest.mark.usefixtures("ray_session")
def test_a_night_that_loses_its_lease_stops_with_exit_3_and_the_next_run_finishes_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injected: an operator takes the batch over while the night runs (as if it had been declared
    dead). The night stops at its next micro-batch with exit 3; the taker's run finishes the night."""
    from policy_ray.cli import main
    from policy_ray.sample import generate_night
    from tests.flows.helpers import assert_accounted_once

    night, lake_dir = tmp_path / "night", tmp_path / "lake"
    generate_night(night, 5, 9, include_hostile=False, scanned_share=0.0)
    real_check, taker = BatchLease.check, cast(list[Any], [])

    def taken_over_after_the_first_commit(lease: BatchLease) -> None:
        if lease.lake.read("documents").num_rows and not taker:
            taker.append(_take(Lake(lease.lake.uri), lease.batch_id, take_over=True))
        real_check(lease)

    monkeypatch.setattr(BatchLease, "check", taken_over_after_the_first_commit)
    args = ["ingest", str(night), "--lake", str(lake_dir), "--batch-date", NIGHT.isoformat(), "--no-progress",
            "--no-ocr", "--no-reconcile", "--extractors", "1", "--commit-every", "1"]
    assert main(args) == 3
    monkeypatch.undo()
    lake = Lake(str(lake_dir))
    assert 0 < lake.read("documents").num_rows < 5
    taker[0].end()  # the taker's process is gone now: its lease frees the batch
    assert main(args) == 0
    assert_accounted_once(lake, sorted(p for p in night.iterdir() if p.suffix == ".pdf"))
    from policy_ray.flows.verify import verify

    assert verify(lake).ok
