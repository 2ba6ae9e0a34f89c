"""What every stage does at both ends: read the source and verify its hash; turn a routing decision
into a DocumentResult (gated record and hashes, or a dead letter with the partial fields)."""

from __future__ import annotations

from typing import Any

from policy_ray.adapters.source import DocumentSource
from policy_ray.core.identity import canonical_sha256, sha256_hex
from policy_ray.core.models import MappedDocument, RawExtraction
from policy_ray.core.outcomes import DocumentResult, DocumentTask, normalized_sha256, record_payload
from policy_ray.core.routing import Decision, Route, RoutingMatrix, gate_optional_fields
from policy_ray.errors import Failure, FailureCategory, PolicyRayError


def read_verified(sources: dict[str, DocumentSource], task: DocumentTask,
                  storage_options: dict[str, str] | None = None) -> bytes:
    root = task.source_uri.rsplit("/", 1)[0]
    source = sources.get(root) or sources.setdefault(root, DocumentSource(root, storage_options=storage_options))
    data = source.read(task.source_uri)
    if sha256_hex(data) != task.doc_sha256:
        raise PolicyRayError(FailureCategory.SOURCE_CHANGED, "the file changed between listing and extraction",
                             stage="read")
    return data


def routed_result(task: DocumentTask, raw: RawExtraction, mapped: MappedDocument, decision: Decision,
                  timings: dict[str, float], matrix: RoutingMatrix) -> DocumentResult:
    payload = raw.to_payload()
    common: dict[str, Any] = dict(
        task=task, confidence=mapped.confidence, field_confidence=mapped.field_confidence,
        routing_rule=decision.rule, extraction_path=raw.source.value, raw_payload=payload,
        raw_sha256=canonical_sha256(payload), page_count=raw.page_count, timings_ms=timings,
    )
    if decision.route is Route.ACCEPT:
        record = gate_optional_fields(mapped.record, mapped.field_confidence, matrix.thresholds.field_keep)
        return DocumentResult(status="accepted", record=record, normalized_sha256=normalized_sha256(record), **common)
    assert decision.category is not None
    failure = Failure.of(decision.category, "route", f"{decision.rule}: {decision.reason}", component="router")
    partial = {"record": record_payload(mapped.record), "field_confidence": mapped.field_confidence,
               "evidence": mapped.evidence, "validation_errors": list(mapped.validation_errors)}
    status = "ocr" if decision.route is Route.OCR else "dead_letter"
    return DocumentResult(status=status, failure=failure, partial_fields=partial, **common)
