"""Schemas of the Delta tables under LAKE/: the data contract data engineers query."""

from __future__ import annotations

import pyarrow as pa

MONEY = pa.decimal128(18, 2)
TS = pa.timestamp("us", tz="UTC")

COVERAGE = pa.struct(
    [
        ("name", pa.string()),
        ("limit", MONEY),
        ("deductible", MONEY),
        ("premium", MONEY),
        ("policy_number", pa.string()),
        ("carrier_name", pa.string()),
        ("effective_date", pa.date32()),
        ("expiration_date", pa.date32()),
    ]
)

POLICIES = pa.schema(
    [
        ("doc_sha256", pa.string()),
        ("idempotency_key", pa.string()),
        ("source_uri", pa.string()),
        ("batch_id", pa.string()),
        ("batch_date", pa.date32()),
        ("document_type", pa.string()),
        ("template_id", pa.string()),
        ("template_version", pa.string()),
        ("carrier_name", pa.string()),
        ("policy_number", pa.string()),
        ("insured_name", pa.string()),
        ("effective_date", pa.date32()),
        ("expiration_date", pa.date32()),
        ("total_premium", MONEY),
        ("currency", pa.string()),
        ("coverages", pa.list_(COVERAGE)),
        ("extraction_path", pa.string()),
        ("confidence", pa.float64()),
        ("field_confidence", pa.map_(pa.string(), pa.float64())),
        ("routing_rule", pa.string()),
        ("page_count", pa.int32()),
        ("raw_sha256", pa.string()),
        ("normalized_sha256", pa.string()),
        ("micro_batch", pa.int64()),  # which commit of the batch wrote the row (audit: row -> Delta version)
        ("committed_at", TS),
    ]
)

DEAD_LETTERS = pa.schema(
    [
        ("doc_sha256", pa.string()),
        ("idempotency_key", pa.string()),
        ("source_uri", pa.string()),
        ("batch_id", pa.string()),
        ("batch_date", pa.date32()),
        ("failure_category", pa.string()),
        ("failure_stage", pa.string()),
        ("failure_component", pa.string()),
        ("failure_page", pa.int32()),
        ("error_message", pa.string()),
        ("stack_trace", pa.string()),
        ("attempts", pa.int32()),
        ("retryable", pa.bool_()),
        ("confidence", pa.float64()),
        ("partial_fields", pa.string()),  # JSON: the mapped record, confidences and evidence
        ("raw_sha256", pa.string()),
        ("status", pa.string()),  # open | requeued | resolved | failed_again | replay_attempt (dead-letters.md)
        ("resolution", pa.string()),  # JSON: what a replay made of it (the row it produced, or the new failure)
        ("micro_batch", pa.int64()),
        ("first_seen", TS),
        ("last_seen", TS),
    ]
)

# One row per listed input file per batch: the ledger that proves every document was accounted for.
DOCUMENTS = pa.schema(
    [
        ("batch_id", pa.string()),
        ("batch_date", pa.date32()),
        ("source_uri", pa.string()),
        ("doc_sha256", pa.string()),
        ("idempotency_key", pa.string()),
        ("size_bytes", pa.int64()),
        ("disposition", pa.string()),  # committed | dead_lettered | duplicate
        ("duplicate_of", pa.string()),
        ("micro_batch", pa.int64()),  # which commit of the batch wrote the row (audit: row -> Delta version)
        ("recorded_at", TS),
    ]
)

# The raw extraction payload each normalized record was derived from (zlib-compressed canonical JSON).
EXTRACTIONS = pa.schema(
    [
        ("idempotency_key", pa.string()),
        ("doc_sha256", pa.string()),
        ("batch_id", pa.string()),
        ("batch_date", pa.date32()),
        ("extraction_path", pa.string()),
        ("raw_sha256", pa.string()),
        ("payload_zlib", pa.binary()),
        ("micro_batch", pa.int64()),
        ("recorded_at", TS),
    ]
)

BATCHES = pa.schema(
    [
        ("batch_id", pa.string()),
        ("batch_date", pa.date32()),
        ("input_uri", pa.string()),
        ("status", pa.string()),  # running | completed | quarantined | released
        ("status_reason", pa.string()),  # why quarantined (JSON list of deviations) or released (the reviewer's reason)
        ("started_at", TS),
        ("finished_at", TS),
        ("run_count", pa.int32()),
        ("lease_owner", pa.string()),  # host:pid:nonce of the run that holds the batch (flows/batch_lease.py)
        ("lease_until", TS),
        ("listed", pa.int64()),
        ("accepted", pa.int64()),
        ("dead_lettered", pa.int64()),
        ("duplicates", pa.int64()),
        ("sent_to_ocr", pa.int64()),
        ("dead_letter_categories", pa.map_(pa.string(), pa.int64())),
        ("code_version", pa.string()),
        ("routing_matrix_version", pa.string()),
        ("summary_json", pa.string()),
        # The audit chain's head when the night completed (its batch_completed entry): `audit verify`
        # checks the chain still reaches it, so cutting entries off the end cannot go unnoticed.
        ("chain_seq", pa.int64()),
        ("chain_head", pa.string()),
    ]
)

# The audit trail: one hash-chained entry per lifecycle step of every document (core/audit_chain.py).
AUDIT_LOG = pa.schema(
    [
        ("seq", pa.int64()),
        ("batch_id", pa.string()),
        ("idempotency_key", pa.string()),
        ("doc_sha256", pa.string()),
        ("stage", pa.string()),
        ("payload_sha256", pa.string()),
        ("table_name", pa.string()),
        ("table_version", pa.int64()),
        ("log_sha256", pa.string()),
        ("row_sha256", pa.string()),  # sha256 of the whole row the step committed (core/row_digest.py)
        ("details", pa.string()),
        ("recorded_at", TS),
        ("prev_hash", pa.string()),
        ("entry_hash", pa.string()),
    ]
)

TABLES: dict[str, tuple[pa.Schema, list[str]]] = {
    "policies": (POLICIES, ["batch_date"]),
    "dead_letters": (DEAD_LETTERS, ["batch_date"]),
    "documents": (DOCUMENTS, ["batch_date"]),
    "extractions": (EXTRACTIONS, ["batch_date"]),
    "batches": (BATCHES, []),
    "audit_log": (AUDIT_LOG, []),
}
