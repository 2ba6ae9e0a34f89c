"""Results -> table rows, following the data contract in adapters/lake_schema.py. Pure."""

from __future__ import annotations

import json
import zlib
from datetime import date, datetime
from typing import Any

from policy_ray.core.identity import canonical_json
from policy_ray.core.outcomes import DocumentResult, DocumentTask

COMMITTED, DEAD_LETTERED, DUPLICATE = "committed", "dead_lettered", "duplicate"


def policy_row(result: DocumentResult, committed_at: datetime) -> dict[str, Any]:
    record = result.record
    assert record is not None
    task = result.task
    return {
        "doc_sha256": task.doc_sha256,
        "idempotency_key": task.idempotency_key,
        "source_uri": task.source_uri,
        "batch_id": task.batch_id,
        "batch_date": task.batch_date,
        "document_type": record.document_type,
        "template_id": record.template_id,
        "template_version": record.template_version,
        "carrier_name": record.carrier_name,
        "policy_number": record.policy_number,
        "insured_name": record.insured_name,
        "effective_date": record.effective_date,
        "expiration_date": record.expiration_date,
        "total_premium": record.total_premium,
        "currency": record.currency,
        "coverages": [
            {"name": c.name, "limit": c.limit, "deductible": c.deductible, "premium": c.premium,
             "policy_number": c.policy_number, "carrier_name": c.carrier_name,
             "effective_date": c.effective_date, "expiration_date": c.expiration_date}
            for c in record.coverages
        ],
        "extraction_path": result.extraction_path,
        "confidence": result.confidence,
        "field_confidence": sorted(result.field_confidence.items()),
        "routing_rule": result.routing_rule,
        "page_count": result.page_count,
        "raw_sha256": result.raw_sha256,
        "normalized_sha256": result.normalized_sha256,
        "committed_at": committed_at,
    }


def dead_letter_row(result: DocumentResult, now: datetime, first_seen: datetime | None) -> dict[str, Any]:
    failure = result.failure
    assert failure is not None
    task = result.task
    return {
        "doc_sha256": task.doc_sha256,
        "idempotency_key": task.idempotency_key,
        "source_uri": task.source_uri,
        "batch_id": task.batch_id,
        "batch_date": task.batch_date,
        "failure_category": failure.category.value,
        "failure_stage": failure.stage,
        "failure_component": failure.component,
        "failure_page": failure.page,
        "error_message": failure.message,
        "stack_trace": failure.stack_trace or "\n".join(f.stack_trace for f in task.failures if f.stack_trace),
        "attempts": task.attempt,
        "retryable": failure.retryable,
        "confidence": result.confidence if result.raw_payload is not None else None,
        "partial_fields": json.dumps(result.partial_fields, default=_json_default, sort_keys=True)
        if result.partial_fields else None,
        "raw_sha256": result.raw_sha256,
        "status": "open",
        "resolution": None,
        "first_seen": first_seen or now,
        "last_seen": now,
    }


def extraction_row(result: DocumentResult, now: datetime) -> dict[str, Any]:
    task = result.task
    return {
        "idempotency_key": task.idempotency_key,
        "doc_sha256": task.doc_sha256,
        "batch_id": task.batch_id,
        "batch_date": task.batch_date,
        "extraction_path": result.extraction_path,
        "raw_sha256": result.raw_sha256,
        "payload_zlib": zlib.compress(canonical_json(result.raw_payload), 6),
        "recorded_at": now,
    }


def ledger_row(task: DocumentTask, disposition: str, now: datetime, duplicate_of: str | None = None) -> dict[str, Any]:
    return {
        "batch_id": task.batch_id,
        "batch_date": task.batch_date,
        "source_uri": task.source_uri,
        "doc_sha256": task.doc_sha256,
        "idempotency_key": task.idempotency_key,
        "size_bytes": task.size_bytes,
        "disposition": disposition,
        "duplicate_of": duplicate_of,
        "recorded_at": now,
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)
