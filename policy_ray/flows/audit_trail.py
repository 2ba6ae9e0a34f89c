"""Audit entries for what a micro-batch committed: which lifecycle steps each document went through,
with the hashes that pin each step, and the Delta versions its rows landed in."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from policy_ray.core.audit_chain import Draft, Stage
from policy_ray.core.outcomes import DocumentResult, DocumentTask


@dataclass(frozen=True)
class Landed:
    """Where a table's rows of one micro-batch landed: version and the hash of its Delta log file."""

    version: int | None
    log_sha256: str | None


def _details(**values: Any) -> str:
    return json.dumps({k: v for k, v in values.items() if v is not None}, sort_keys=True, separators=(",", ":"))


def received(task: DocumentTask) -> Draft:
    return Draft(task.batch_id, Stage.RECEIVED, task.idempotency_key, task.doc_sha256, task.doc_sha256,
                 details=_details(source_uri=task.source_uri, size_bytes=task.size_bytes))


def for_result(result: DocumentResult, landed: Mapping[str, Landed]) -> list[Draft]:
    task = result.task
    drafts = [received(task)]
    if result.raw_sha256 is not None:
        stage = Stage.OCR if result.extraction_path == "ocr" else Stage.EXTRACTED
        drafts.append(Draft(task.batch_id, stage, task.idempotency_key, task.doc_sha256, result.raw_sha256,
                            "extractions", landed["extractions"].version, landed["extractions"].log_sha256))
    if result.status == "accepted":
        drafts.append(Draft(task.batch_id, Stage.NORMALIZED, task.idempotency_key, task.doc_sha256,
                            result.normalized_sha256, details=_details(routing_rule=result.routing_rule)))
        drafts.append(Draft(task.batch_id, Stage.COMMITTED, task.idempotency_key, task.doc_sha256,
                            result.normalized_sha256, "policies", landed["policies"].version,
                            landed["policies"].log_sha256))
    else:
        category = result.failure.category.value if result.failure else None
        drafts.append(Draft(task.batch_id, Stage.DEAD_LETTERED, task.idempotency_key, task.doc_sha256,
                            result.raw_sha256, "dead_letters", landed["dead_letters"].version,
                            landed["dead_letters"].log_sha256, details=_details(failure_category=category)))
    return drafts


def for_duplicate(task: DocumentTask, duplicate_of: str) -> list[Draft]:
    return [received(task), Draft(task.batch_id, Stage.DUPLICATE, task.idempotency_key, task.doc_sha256,
                                  task.doc_sha256, details=_details(duplicate_of=duplicate_of,
                                                                    source_uri=task.source_uri))]


def for_rolled_forward(task: DocumentTask, table: str, row: Mapping[str, Any], landed: Landed) -> list[Draft]:
    """A document an earlier, killed run committed: its entries come from the row it left."""
    drafts = [received(task)]
    stage = Stage.COMMITTED if table == "policies" else Stage.DEAD_LETTERED
    payload = row.get("normalized_sha256") if table == "policies" else row.get("raw_sha256")
    if table == "policies":
        drafts.append(Draft(task.batch_id, Stage.NORMALIZED, task.idempotency_key, task.doc_sha256, payload,
                            details=_details(routing_rule=row.get("routing_rule"), rolled_forward=True)))
    drafts.append(Draft(task.batch_id, stage, task.idempotency_key, task.doc_sha256, payload, table,
                        landed.version, landed.log_sha256, details=_details(rolled_forward=True)))
    return drafts
