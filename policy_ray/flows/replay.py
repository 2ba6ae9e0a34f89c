"""Dead-letter queue: list, show and replay.

A replay re-submits the selected dead letters' source files (re-hashed: a changed file fails as
`source_changed`) through the whole pipeline as a new batch, then records on each dead letter what
became of it: `resolved` (with the row it produced, or the row that already holds the document) or
`failed_again` (with the new reason). Every step is an audit entry; nothing is ever inserted twice
(the new batch's duplicate detection sees rows committed meanwhile).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from policy_ray.adapters.lake import Lake
from policy_ray.config import Settings
from policy_ray.core.audit_chain import Draft, Stage
from policy_ray.flows.audit_append import append_entries
from policy_ray.flows.nightly import NightRequest, NightSummary, run_night

REPLAYABLE = ("open", "requeued", "failed_again")
LIST_COLUMNS = ["idempotency_key", "doc_sha256", "source_uri", "batch_id", "batch_date", "failure_category",
                "retryable", "attempts", "confidence", "status", "error_message", "first_seen", "last_seen"]


@dataclass(frozen=True)
class DlqFilter:
    category: str | None = None
    batch_id: str | None = None
    carrier: str | None = None
    retryable: bool | None = None
    since: date | None = None
    status: tuple[str, ...] = REPLAYABLE
    keys: tuple[str, ...] = ()  # idempotency keys or prefixes


def select(lake: Lake, flt: DlqFilter) -> pa.Table:
    table = lake.read("dead_letters")
    mask = pc.is_in(table.column("status"), value_set=pa.array(list(flt.status)))
    if flt.category:
        mask = pc.and_(mask, pc.equal(table.column("failure_category"), flt.category))
    if flt.batch_id:
        mask = pc.and_(mask, pc.equal(table.column("batch_id"), flt.batch_id))
    if flt.retryable is not None:
        mask = pc.and_(mask, pc.equal(table.column("retryable"), flt.retryable))
    if flt.since:
        mask = pc.and_(mask, pc.greater_equal(table.column("batch_date"), pa.scalar(flt.since, pa.date32())))
    table = table.filter(mask)
    rows = table.to_pylist()
    if flt.carrier:
        wanted = flt.carrier.casefold()
        rows = [r for r in rows if wanted in (_partial_record(r).get("carrier_name") or "").casefold()]
    if flt.keys:
        rows = [r for r in rows if any(r["idempotency_key"].startswith(k) for k in flt.keys)]
    return pa.Table.from_pylist(rows, schema=table.schema)


def _partial_record(row: dict[str, Any]) -> dict[str, Any]:
    return (json.loads(row["partial_fields"]) if row.get("partial_fields") else {}).get("record") or {}


@dataclass
class ReplayResult:
    batch_id: str
    selected: int
    resolved: int
    failed_again: int
    summary: NightSummary | None

    def render(self) -> str:
        return (f"replay {self.batch_id}: {self.selected} dead letters re-submitted: {self.resolved} resolved, "
                f"{self.failed_again} failed again")


def replay(lake: Lake, flt: DlqFilter, settings: Settings, *, address: str | None = None,
           today: date | None = None) -> ReplayResult:
    chosen = select(lake, flt).to_pylist()
    if not chosen:
        return ReplayResult("", 0, 0, 0, None)
    keys = sorted(r["idempotency_key"] for r in chosen)
    # The same selection replays as the same batch: a killed replay resumes instead of starting over.
    batch_id = f"replay-{hashlib.sha256(''.join(keys).encode()).hexdigest()[:12]}"
    _mark(lake, chosen, "requeued", batch_id, {"replay_batch_id": batch_id})
    files = tuple(dict.fromkeys(r["source_uri"] for r in chosen))
    request = NightRequest(input_uri=f"dlq-replay:{batch_id}", lake_uri=lake.uri, batch_date=today or date.today(),
                           batch_id=batch_id, address=address, progress=False, files=files)
    summary = run_night(request, settings.replace(reconcile=False))
    outcome = _outcomes(lake, batch_id)
    resolved = failed = 0
    updates: list[dict[str, Any]] = []
    drafts: list[Draft] = []
    for row in chosen:
        got = outcome.get(row["source_uri"], {"status": "failed_again", "reason": "not processed by the replay"})
        resolved += got["status"] == "resolved"
        failed += got["status"] == "failed_again"
        updates.append({"idempotency_key": row["idempotency_key"], "status": got["status"],
                        "resolution": json.dumps({"replay_batch_id": batch_id, **got}, sort_keys=True)})
        drafts.append(Draft(row["batch_id"], Stage.REPLAYED, row["idempotency_key"], row["doc_sha256"],
                            row["doc_sha256"], details=json.dumps({"replay_batch_id": batch_id, **got},
                                                                  sort_keys=True)))
    lake.update_columns("dead_letters", updates, key="idempotency_key", columns=("status", "resolution"),
                        metadata={"batch_id": batch_id, "event": "replay_resolved"})
    append_entries(lake, batch_id, drafts)
    return ReplayResult(batch_id, len(chosen), resolved, failed, summary)


def _mark(lake: Lake, rows: Sequence[dict[str, Any]], status: str, batch_id: str, resolution: dict[str, Any]) -> None:
    lake.update_columns("dead_letters", [{"idempotency_key": r["idempotency_key"], "status": status,
                                          "resolution": json.dumps(resolution)} for r in rows],
                        key="idempotency_key", columns=("status", "resolution"),
                        metadata={"batch_id": batch_id, "event": "replay_requeued"})


def _outcomes(lake: Lake, batch_id: str) -> dict[str, dict[str, Any]]:
    """source_uri -> what the replay batch made of it."""
    ledger = lake.read("documents", ["source_uri", "idempotency_key", "disposition", "duplicate_of"],
                       batch_id=batch_id).to_pylist()
    dead = {r["idempotency_key"]: r for r in lake.read(
        "dead_letters", ["idempotency_key", "failure_category", "error_message"], batch_id=batch_id).to_pylist()}
    out: dict[str, dict[str, Any]] = {}
    for r in ledger:
        if r["disposition"] == "committed":
            out[r["source_uri"]] = {"status": "resolved", "policies_key": r["idempotency_key"]}
        elif r["disposition"] == "duplicate":
            out[r["source_uri"]] = {"status": "resolved", "policies_key": r["duplicate_of"],
                                    "note": "already committed by another batch"}
        else:
            d = dead.get(r["idempotency_key"], {})
            out[r["source_uri"]] = {"status": "failed_again", "failure_category": d.get("failure_category"),
                                    "reason": (d.get("error_message") or "")[:300]}
    return out
