"""Dead-letter queue: list, show and replay.

A replay re-submits each selected dead letter's own document: its source file is re-hashed first,
and a file that no longer has the dead letter's doc_sha256 (replaced, edited) or cannot be read is
not submitted at all; it fails again as `source_changed` / `source_unreadable`, with no new row.
The rest run through the whole pipeline as a replay batch whose id comes from the dead letters and
their attempt numbers (core/replay.py): a killed replay re-run resumes its batch, a replay after a
finished one is a new attempt in a new batch. Each dead letter then records what became of it,
found by its document's key in the replay batch, never by path: `resolved` (with the row it
produced, or the row that already held the document) or `failed_again` (with the new reason).
Every step (requeued, resolved, failed_again) is an audit entry; nothing is ever inserted twice (the
replay batch's duplicate detection sees rows committed meanwhile).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from policy_ray import logs
from policy_ray.adapters.lake import Lake
from policy_ray.adapters.source import DocumentSource
from policy_ray.config import Settings
from policy_ray.core import replay as plan
from policy_ray.core.audit_chain import Draft, Stage
from policy_ray.core.batch_status import REPLAY_INPUT_PREFIX
from policy_ray.core.identity import idempotency_key
from policy_ray.core.row_digest import status_sha256
from policy_ray.errors import FailureCategory, PolicyRayError
from policy_ray.flows.audit_append import append_entries
from policy_ray.flows.nightly import NightRequest, NightSummary, run_night
from policy_ray.flows.reconcile import ReconcileResult, reconcile_batch

REPLAYABLE = (plan.OPEN, plan.REQUEUED, plan.FAILED_AGAIN)
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


def _partial_record(row: Mapping[str, Any]) -> dict[str, Any]:
    return (json.loads(row["partial_fields"]) if row.get("partial_fields") else {}).get("record") or {}


def history(lake: Lake, dead_letter_key: str) -> list[dict[str, Any]]:
    """Every replay step of one dead letter, from the audit trail, oldest first."""
    t = lake.read("audit_log", ["seq", "batch_id", "details", "recorded_at"],
                  where=(ds.field("idempotency_key") == dead_letter_key) & (ds.field("stage") == Stage.REPLAYED.value))
    return [{"seq": e["seq"], "recorded_at": e["recorded_at"], **json.loads(e["details"] or "{}")}
            for e in sorted(t.to_pylist(), key=lambda e: e["seq"])]


@dataclass
class ReplayResult:
    batch_id: str
    selected: int
    resolved: int
    failed_again: int
    summary: NightSummary | None
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)  # dead letter key -> its outcome
    reconcile: ReconcileResult | None = None

    def render(self) -> str:
        if not self.selected:
            return "replay: no dead letters match"
        lines = [f"replay {self.batch_id}: {self.selected} dead letters re-submitted: {self.resolved} resolved, "
                 f"{self.failed_again} failed again"]
        lines += [f"  failed again: {key[:16]} {o.get('failure_category')}: {o.get('reason')}"
                  for key, o in sorted(self.outcomes.items()) if o["status"] == plan.FAILED_AGAIN]
        if self.reconcile is not None:
            lines.append("  " + self.reconcile.render().replace("\n", "\n  "))
        return "\n".join(lines)


def replay(lake: Lake, flt: DlqFilter, settings: Settings, *, address: str | None = None,
           today: date | None = None) -> ReplayResult:
    chosen = select(lake, flt).to_pylist()
    if not chosen:
        return ReplayResult("", 0, 0, 0, None)
    previous = {r["idempotency_key"]: _json(r["resolution"]) for r in chosen}
    attempts = {r["idempotency_key"]: plan.attempt_of(r["status"], previous[r["idempotency_key"]]) for r in chosen}
    batch_id = plan.replay_batch_id(attempts)
    log = logs.logger.bind(batch_id=batch_id, stage="replay")
    recorded = _steps_recorded(lake, batch_id)
    requeued = {r["idempotency_key"]: plan.step(previous[r["idempotency_key"]], r["status"], {
        "status": plan.REQUEUED, "attempt": attempts[r["idempotency_key"]], "replay_batch_id": batch_id})
        for r in chosen}
    _record(lake, batch_id, chosen, requeued, recorded)

    # Only the dead letters' own documents go in: a file that changed or vanished is refused here.
    replay_keys = {r["idempotency_key"]: idempotency_key(r["doc_sha256"], batch_id) for r in chosen}
    done = {r["idempotency_key"] for r in _ledger(lake, batch_id)}  # a killed run of this replay got this far
    refused: dict[str, dict[str, Any]] = {}
    for r in chosen:
        key = r["idempotency_key"]
        if replay_keys[key] not in done and not plan.unknown_content(r["doc_sha256"], r["source_uri"]):
            problem = _check_source(r["source_uri"], r["doc_sha256"], settings.storage_options)
            if problem is not None:
                refused[key] = problem
                log.warning("replay refused: source differs from the dead letter", doc=r["doc_sha256"][:12],
                            category=problem["failure_category"])
    files = tuple(dict.fromkeys(r["source_uri"] for r in chosen if r["idempotency_key"] not in refused))
    summary = None
    if files:
        existing = lake.batch_row(batch_id)  # a resumed replay keeps the date it started on
        request = NightRequest(input_uri=f"{REPLAY_INPUT_PREFIX}{batch_id}", lake_uri=lake.uri,
                               batch_date=existing["batch_date"] if existing else today or date.today(),
                               batch_id=batch_id, address=address, progress=False, files=files,
                               expected_sha256={r["source_uri"]: r["doc_sha256"] for r in chosen
                                                if not plan.unknown_content(r["doc_sha256"], r["source_uri"])})
        summary = run_night(request, settings.replace(reconcile=False))

    ledger = _ledger(lake, batch_id)
    replay_dead = lake.read("dead_letters", ["idempotency_key", "source_uri", "failure_category", "error_message"],
                            batch_id=batch_id).to_pylist()
    dead = {r["idempotency_key"]: r for r in replay_dead}
    outcomes = {r["idempotency_key"]: {"attempt": attempts[r["idempotency_key"]], "replay_batch_id": batch_id,
                                       **plan.outcome_for(r["doc_sha256"], r["source_uri"],
                                                          replay_keys[r["idempotency_key"]], ledger, dead,
                                                          refused.get(r["idempotency_key"]))}
                for r in chosen}
    _record(lake, batch_id, chosen, {k: plan.step(requeued[k], plan.REQUEUED, o) for k, o in outcomes.items()},
            recorded)
    attempt_of = plan.attempts_of(replay_dead, chosen, replay_keys)
    lake.update_columns("dead_letters", [
        {"idempotency_key": key, "status": plan.REPLAY_ATTEMPT, "resolution": json.dumps({"replay_of": originals})}
        for key, originals in attempt_of.items()], key="idempotency_key", columns=("status", "resolution"),
        metadata={"batch_id": batch_id, "event": "replay_attempts"})
    resolved, failed = plan.tally(outcomes.values())
    result = ReplayResult(batch_id, len(chosen), resolved, failed, summary, outcomes)
    if summary is not None and settings.reconcile:  # completeness applies to a replay batch like to a night
        result.reconcile = reconcile_batch(lake, batch_id, webhook=settings.alert_webhook)
    log.info("replay finished", selected=len(chosen), resolved=resolved, failed_again=failed)
    return result


def _json(text: str | None) -> dict[str, Any] | None:
    return json.loads(text) if text else None


def _ledger(lake: Lake, batch_id: str) -> list[dict[str, Any]]:
    return lake.read("documents", ["source_uri", "idempotency_key", "disposition", "duplicate_of"],
                     batch_id=batch_id).to_pylist()


def _check_source(uri: str, doc_sha256: str, storage_options: Mapping[str, str]) -> dict[str, Any] | None:
    """None when the file still holds the dead letter's document; else why it is refused."""
    try:
        actual = DocumentSource(uri.rsplit("/", 1)[0], storage_options=storage_options).sha256(uri)
    except (PolicyRayError, OSError) as exc:
        return {"failure_category": FailureCategory.SOURCE_UNREADABLE.value,
                "reason": f"the source file cannot be read: {exc}"[:300]}
    if actual != doc_sha256:
        return {"failure_category": FailureCategory.SOURCE_CHANGED.value,
                "reason": f"the file no longer holds the dead-lettered document (sha256 {doc_sha256[:12]}, "
                          f"now {actual[:12]}); not re-submitted"}
    return None


def _steps_recorded(lake: Lake, batch_id: str) -> set[tuple[str, str]]:
    """(dead letter key, step) this replay batch already has in the audit trail (a resumed replay)."""
    t = lake.read("audit_log", ["idempotency_key", "details"], batch_id=batch_id,
                  where=ds.field("stage") == Stage.REPLAYED.value)
    return {(e["idempotency_key"], json.loads(e["details"] or "{}").get("step", "")) for e in t.to_pylist()}


def _record(lake: Lake, batch_id: str, rows: Sequence[Mapping[str, Any]],
            resolutions: Mapping[str, dict[str, Any]], recorded: set[tuple[str, str]]) -> None:
    """One replay step for each dead letter: its audit entry first (unless a killed run of this replay
    already wrote it), then its status and resolution."""
    drafts = []
    written = {key: json.dumps(res, sort_keys=True) for key, res in resolutions.items()}
    for r in rows:
        key = r["idempotency_key"]
        outcome = {k: v for k, v in resolutions[key].items() if k != "history"}
        if (key, outcome["status"]) in recorded:
            continue
        details = {"step": outcome["status"], "dead_letter_batch_id": r["batch_id"], **outcome}
        # row_sha256 pins the status and resolution written below (the columns the dead letter's own
        # whole-row hash leaves out, since replays rewrite them): `audit verify` compares them.
        drafts.append(Draft(batch_id, Stage.REPLAYED, key, r["doc_sha256"], r["doc_sha256"],
                            table_name="dead_letters", row_sha256=status_sha256(outcome["status"], written[key]),
                            details=json.dumps(details, sort_keys=True)))
        recorded.add((key, outcome["status"]))
    if drafts:
        # Under an app id of its own: the replay batch's run numbers its own audit transactions.
        append_entries(lake, f"{batch_id}#steps", drafts)
    updates = [{"idempotency_key": key, "status": res["status"], "resolution": written[key]}
               for key, res in resolutions.items()]
    lake.update_columns("dead_letters", updates, key="idempotency_key", columns=("status", "resolution"),
                        metadata={"batch_id": batch_id, "event": "replay_step"})
