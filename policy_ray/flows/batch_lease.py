"""The batch lease: one run of a batch at a time, across processes and hosts.

A run takes the lease by a conditional commit to `batches` (`Lake.swap`): it reads the batch's row,
decides (free, expired, or held by a run that is gone), and commits its claim only if nothing else
committed to `batches` since that read; otherwise it reads and decides again, and then sees the
other run's claim. delta-rs 1.6 does not reject a repeated app-transaction version between two
writers that are not concurrent, so the claim must not rely on one; the conditional commit is what
makes two runs started at once end with one holder (tests/flows/test_crash_safety.py).

The holder renews the lease every `lease_s / 3` (from the scheduler's tick, and before a
micro-batch once due) and checks before every micro-batch that it still holds it: an operator may
take the lease over from a head that died on another host (`policy-ray ingest ... --take-over-lease`),
and a run that finds its lease gone stops with BatchBusy (exit 3) before writing again.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import psutil
from deltalake import DeltaTable

from policy_ray import code_version, logs
from policy_ray.adapters.lake import Lake

RENEW_FRACTION = 1 / 3  # renew when a third of the lease has passed: two renewals may fail before it lapses


class BatchBusy(Exception):
    """Another live run holds this batch: this run must not write anything (more)."""


_RUNS_IN_THIS_PROCESS: set[str] = set()


def owner_id(nonce: str) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{nonce}"


def lease_is_live(owner: str | None, until: datetime | None, now: datetime) -> bool:
    if not owner or until is None or until <= now:
        return False
    host, pid, nonce = [*owner.split(":"), "", "", ""][:3]
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another host's run: trust its lease until it expires (or an operator takes it over)
    if int(pid) == os.getpid():
        return nonce in _RUNS_IN_THIS_PROCESS
    return psutil.pid_exists(int(pid))  # a killed run on this host frees its batch at once


def _row(lake: Lake, snapshot: DeltaTable, batch_id: str) -> dict[str, Any] | None:
    rows = lake.read("batches", batch_id=batch_id, snapshot=snapshot).to_pylist()
    return rows[0] if rows else None


class BatchLease:
    def __init__(self, lake: Lake, batch_id: str, owner: str, nonce: str, lease_s: float, run_count: int):
        self.lake, self.batch_id, self.owner, self.nonce = lake, batch_id, owner, nonce
        self.lease_s, self.run_count = lease_s, run_count
        self.renew_every_s = lease_s * RENEW_FRACTION
        self.renewals = 0
        self._due = time.monotonic() + self.renew_every_s

    @classmethod
    def take(cls, lake: Lake, *, batch_id: str, batch_date: date, input_uri: str, routing_matrix_version: str,
             lease_s: float, take_over: bool = False) -> BatchLease:
        """Claim the batch and record the run. BatchBusy when a live run holds it (unless `take_over`:
        the operator says that run is dead, e.g. its head node is gone)."""
        nonce = uuid.uuid4().hex[:8]
        owner = owner_id(nonce)
        outcome: dict[str, Any] = {}

        def decide(snapshot: DeltaTable) -> tuple[list[dict[str, Any]], dict[str, Any]]:
            previous = _row(lake, snapshot, batch_id) or {}
            now = logs.now_utc()
            holder = previous.get("lease_owner")
            live = previous.get("status") == "running" and lease_is_live(holder, previous.get("lease_until"), now)
            if live and not take_over:
                raise BatchBusy(f"batch {batch_id} is being run by {holder} (lease until {previous['lease_until']}); "
                                "if that run is dead, re-run with --take-over-lease")
            run_count = int(previous.get("run_count") or 0) + 1
            outcome.update(run=run_count, taken_from=holder if live else None)
            row = {
                "batch_id": batch_id, "batch_date": batch_date, "input_uri": input_uri,
                "status": "running", "status_reason": None,
                "started_at": previous.get("started_at") or now, "finished_at": None,
                "run_count": run_count, "lease_owner": owner, "lease_until": now + timedelta(seconds=lease_s),
                "listed": None, "accepted": None, "dead_lettered": None, "duplicates": None,
                "sent_to_ocr": None, "dead_letter_categories": None, "code_version": code_version(),
                "routing_matrix_version": routing_matrix_version, "summary_json": None,
                # The head an earlier completion of this batch recorded stays: its entry stays in the chain.
                "chain_seq": previous.get("chain_seq"), "chain_head": previous.get("chain_head"),
            }
            meta = {"batch_id": batch_id, "event": "lease_taken_over" if live else "run_started",
                    "run": str(run_count), "lease_owner": owner}
            if live:
                meta["taken_over_from"] = str(holder)
            return [row], meta

        _RUNS_IN_THIS_PROCESS.add(nonce)
        try:
            lake.swap("batches", decide, key="batch_id")
        except BaseException:
            _RUNS_IN_THIS_PROCESS.discard(nonce)
            raise
        if outcome["taken_from"]:
            logs.logger.bind(batch_id=batch_id, stage="lease").warning(
                "lease taken over from a run the operator declared dead", previous_owner=outcome["taken_from"])
        return cls(lake, batch_id, owner, nonce, lease_s, int(outcome["run"]))

    def renew(self) -> None:
        """Push the lease's end out by `lease_s`, if this run still holds it; BatchBusy if not."""

        def decide(snapshot: DeltaTable) -> tuple[list[dict[str, Any]], dict[str, Any]]:
            row = _row(self.lake, snapshot, self.batch_id)
            self._check(row)
            assert row is not None
            return ([{**row, "lease_until": logs.now_utc() + timedelta(seconds=self.lease_s)}],
                    {"batch_id": self.batch_id, "event": "lease_renewed", "run": str(self.run_count)})

        self.lake.swap("batches", decide, key="batch_id")
        self.renewals += 1
        self._due = time.monotonic() + self.renew_every_s

    def renew_if_due(self) -> None:
        """Called from the scheduler's tick (every turn of the loop): cheap until a renewal is due."""
        if time.monotonic() >= self._due:
            self.renew()

    def check(self) -> None:
        """Before a commit: this run still holds the batch (renewing on the way if due)."""
        if time.monotonic() >= self._due:
            self.renew()
        else:
            self._check(self.lake.batch_row(self.batch_id))

    def _check(self, row: dict[str, Any] | None) -> None:
        if row is None or row.get("lease_owner") != self.owner or row.get("status") != "running":
            holder = row.get("lease_owner") if row else None
            raise BatchBusy(f"batch {self.batch_id}: this run ({self.owner}) lost its lease to {holder}; "
                            "it stops before writing again")

    def end(self) -> None:
        _RUNS_IN_THIS_PROCESS.discard(self.nonce)
