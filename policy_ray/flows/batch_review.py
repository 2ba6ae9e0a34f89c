"""Reviews of a batch (quarantine, release): the audit trail is where they are decided, the batch row
follows it.

A review is written audit entry first, status second: a run killed in between leaves an entry the
next close or reconciliation honours, never a status change nobody audited. The status is changed
with a compare-and-set on the status it was judged in, so a run that started meanwhile is never
overwritten (its close applies the review from the audit trail instead).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
from deltalake import CommitProperties
from deltalake.exceptions import CommitFailedError

from policy_ray import logs
from policy_ray.adapters.lake import Lake
from policy_ray.adapters.lake_schema import BATCHES
from policy_ray.core.audit_chain import Draft, Stage
from policy_ray.core.batch_status import BatchStatus, can_release, reviewed_status
from policy_ray.flows.audit_append import append_entries

REVIEW_STAGES = (Stage.BATCH_QUARANTINED.value, Stage.BATCH_RELEASED.value)


class UnknownBatch(KeyError):
    def __str__(self) -> str:
        return f"no batch {self.args[0]!r} in this lake (policy-ray sql --lake L \"SELECT batch_id FROM batches\")"


@dataclass(frozen=True)
class Review:
    status: BatchStatus | None  # None: never reviewed
    reason: str | None  # what the batch row's status_reason says: the deviations (JSON) or the release reason
    figures_sha256: str | None  # the figures the review was made on (None: an entry from before they were kept)


def last_review(lake: Lake, batch_id: str) -> Review:
    t = lake.read("audit_log", ["seq", "stage", "details"], batch_id=batch_id,
                  where=ds.field("stage").isin(list(REVIEW_STAGES)))
    entries = sorted(t.to_pylist(), key=lambda e: e["seq"])
    status = reviewed_status(e["stage"] for e in entries)
    if status is None:
        return Review(None, None, None)
    details = json.loads(entries[-1]["details"] or "{}")
    reason = json.dumps(details.get("reasons", [])) if status is BatchStatus.QUARANTINED else details.get("reason")
    return Review(status, reason, details.get("figures_sha256"))


def record(lake: Lake, batch_id: str, stage: Stage, details: Mapping[str, Any]) -> None:
    # Appended under an app id of its own ("<batch>#review"), never the batch's: a run of the batch
    # numbers its own audit transactions and would take a review's number for one it already wrote.
    append_entries(lake, f"{batch_id}#review", [Draft(batch_id, stage, details=json.dumps(details, sort_keys=True))])


def set_status(lake: Lake, batch_id: str, expected: BatchStatus, status: BatchStatus, reason: str | None,
               event: str) -> bool:
    """Status and reason of the batch, only while its status is still `expected`. False: it changed."""
    fields = [BATCHES.field("batch_id"), BATCHES.field("status"), BATCHES.field("status_reason")]
    data = pa.Table.from_pylist([{"batch_id": batch_id, "status": status.value, "status_reason": reason}],
                                schema=pa.schema(fields))
    try:
        metrics = (
            lake.table("batches")
            .merge(data, predicate=f"t.batch_id = s.batch_id AND t.status = '{expected.value}'", source_alias="s",
                   target_alias="t", commit_properties=CommitProperties(custom_metadata={
                       "batch_id": batch_id, "event": event, "status": status.value}))
            .when_matched_update(updates={"status": "s.status", "status_reason": "s.status_reason"})
            .execute()
        )
    except CommitFailedError:  # a concurrent writer changed the row first
        return False
    return int(metrics.get("num_target_rows_updated", 0)) == 1


def release(lake: Lake, batch: Mapping[str, Any], reason: str, *, figures_sha256: str, config_version: str) -> None:
    """Lift a quarantine after review: a `batch_released` entry with the reason and the figures it was
    released on, then the status."""
    batch_id = batch["batch_id"]
    if not reason.strip():
        raise ValueError("a release needs a reason (what was reviewed, what was done)")
    can_release(batch["status"])
    record(lake, batch_id, Stage.BATCH_RELEASED, {"reason": reason, "figures_sha256": figures_sha256,
                                                  "config": config_version})
    log = logs.logger.bind(batch_id=batch_id, stage="reconcile")
    if not set_status(lake, batch_id, BatchStatus.QUARANTINED, BatchStatus.RELEASED, reason, "released"):
        log.warning("batch changed while being released; its next close applies the release", reason=reason)
    log.warning("quarantined batch released", reason=reason)
