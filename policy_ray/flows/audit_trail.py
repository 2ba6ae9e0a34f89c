"""Audit entries for what a micro-batch committed, built from the committed rows themselves.

Each document's entries come from the rows the lake holds for it (written by this micro-batch, or
left by an earlier, killed run of the batch) and name the Delta version that added each row, with
that version's log hash and the row's whole-row hash (core/row_digest.py). So an entry can never
name a version that does not hold its row, and a rolled-forward document gets the same entries as
one that went through in one go.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from policy_ray.core.audit_chain import FILE_STAGES, Draft, Stage
from policy_ray.core.row_digest import row_sha256, status_sha256
from policy_ray.core.rows import COMMITTED, DEAD_LETTERED, DUPLICATE


@dataclass(frozen=True)
class Landed:
    """Where a table's rows of one micro-batch landed: version and the hash of its Delta log file."""

    version: int | None
    log_sha256: str | None


@dataclass(frozen=True)
class Placed:
    """A committed row (as Arrow returns it) and the version that added it."""

    row: Mapping[str, Any]
    where: Landed


@dataclass(frozen=True)
class DocumentRows:
    """Everything the lake holds for one listed file of a batch."""

    ledger: Placed  # its `documents` row
    extraction: Placed | None = None
    data: Placed | None = None  # the `policies` row (committed) or the `dead_letters` row (dead-lettered)


def _details(**values: Any) -> str:
    return json.dumps({k: v for k, v in values.items() if v is not None}, sort_keys=True, separators=(",", ":"))


def step_id(stage: str, idempotency_key: str | None, source_uri: str | None) -> str:
    """What a step is about: a file for file stages (two files with the same bytes are two files), the
    document otherwise. A step already in the trail is never written again."""
    return f"{stage}\x1f{source_uri if stage in FILE_STAGES else idempotency_key}"


def entry_step(stage: str, idempotency_key: str | None, details: str | None) -> str:
    uri = json.loads(details).get("source_uri") if details and stage in FILE_STAGES else None
    return step_id(stage, idempotency_key, uri)


def draft_step(d: Draft) -> str:
    return entry_step(d.stage.value, d.idempotency_key, d.details)


def _placed(batch_id: str, stage: Stage, key: str, sha: str, payload: str | None, table: str, placed: Placed,
            **details: Any) -> Draft:
    return Draft(batch_id, stage, key, sha, payload, table, placed.where.version, placed.where.log_sha256,
                 details=_details(**details) if any(v is not None for v in details.values()) else None,
                 row_sha256=row_sha256(table, placed.row))


def for_document(doc: DocumentRows, batch_id: str, *, rolled_forward: bool = False) -> list[Draft]:
    ledger = doc.ledger.row
    key, sha, uri = ledger["idempotency_key"], ledger["doc_sha256"], ledger["source_uri"]
    again = True if rolled_forward else None  # completed from the rows an earlier, killed run left
    drafts = [Draft(batch_id, Stage.RECEIVED, key, sha, sha,
                    details=_details(source_uri=uri, size_bytes=ledger["size_bytes"]))]
    if doc.extraction is not None:
        row = doc.extraction.row
        stage = Stage.OCR if row["extraction_path"] == "ocr" else Stage.EXTRACTED
        drafts.append(_placed(batch_id, stage, key, sha, row["raw_sha256"], "extractions", doc.extraction,
                              rolled_forward=again))
    disposition = ledger["disposition"]
    if disposition == COMMITTED and doc.data is not None:
        row = doc.data.row
        drafts.append(Draft(batch_id, Stage.NORMALIZED, key, sha, row["normalized_sha256"],
                            details=_details(routing_rule=row["routing_rule"], rolled_forward=again)))
        drafts.append(_placed(batch_id, Stage.COMMITTED, key, sha, row["normalized_sha256"], "policies", doc.data,
                              rolled_forward=again))
    elif disposition == DEAD_LETTERED and doc.data is not None:
        row = doc.data.row
        drafts.append(_placed(batch_id, Stage.DEAD_LETTERED, key, sha, row["raw_sha256"], "dead_letters", doc.data,
                              failure_category=row["failure_category"], rolled_forward=again))
    elif disposition == DUPLICATE:
        drafts.append(Draft(batch_id, Stage.DUPLICATE, key, sha, sha,
                            details=_details(duplicate_of=ledger["duplicate_of"], source_uri=uri)))
    drafts.append(_placed(batch_id, Stage.RECORDED, key, sha, sha, "documents", doc.ledger, source_uri=uri,
                          disposition=disposition, rolled_forward=again))
    return drafts


# ---- hooks for steps written outside a night (reconciliation, release, dead-letter replay) ----------


def batch_released(batch_id: str, reason: str, reviewer: str | None = None) -> Draft:
    """A reviewer released a quarantined batch: the review is this entry (there is no separate stage)."""
    return Draft(batch_id, Stage.BATCH_RELEASED, details=_details(reason=reason, reviewer=reviewer))


def replayed(dead_letter: Mapping[str, Any], replay_batch_id: str, status: str, resolution: str | None,
             outcome: Mapping[str, Any]) -> Draft:
    """A dead letter's replay outcome. `row_sha256` pins the status and resolution the replay wrote on
    the dead_letters row (the columns its whole-row hash leaves out): `audit verify` compares them."""
    return Draft(dead_letter["batch_id"], Stage.REPLAYED, dead_letter["idempotency_key"], dead_letter["doc_sha256"],
                 dead_letter["doc_sha256"], table_name="dead_letters", row_sha256=status_sha256(status, resolution),
                 details=_details(replay_batch_id=replay_batch_id, status=status, **outcome))
