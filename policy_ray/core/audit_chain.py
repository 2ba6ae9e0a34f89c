"""The audit hash chain: every lifecycle step of every document is an entry whose hash covers its
canonical content and the previous entry's hash. Nights link to each other (a night's first entry
points at the previous night's head), so the whole history verifies from the first night.

Pure: building entries, hashing, and checking a sequence of entries. Reading tables and Delta logs
to compare against is the verify flow's job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from policy_ray.core.identity import canonical_sha256

GENESIS = "0" * 64


class Stage(StrEnum):
    BATCH_STARTED = "batch_started"
    RECEIVED = "received"  # payload: sha256 of the file's bytes
    EXTRACTED = "extracted"  # payload: raw_sha256 of the text-path raw payload
    OCR = "ocr"  # payload: raw_sha256 of the OCR raw payload
    NORMALIZED = "normalized"  # payload: normalized_sha256 of the record
    COMMITTED = "committed"  # table, version and the sha256 of that version's Delta log file
    DEAD_LETTERED = "dead_lettered"
    DUPLICATE = "duplicate"
    BATCH_COMPLETED = "batch_completed"
    BATCH_QUARANTINED = "batch_quarantined"
    BATCH_RELEASED = "batch_released"
    REVIEWED = "reviewed"
    REPLAYED = "replayed"


ENTRY_FIELDS = ("seq", "batch_id", "idempotency_key", "doc_sha256", "stage", "payload_sha256", "table_name",
                "table_version", "log_sha256", "details", "recorded_at", "prev_hash")


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    batch_id: str
    idempotency_key: str | None
    doc_sha256: str | None
    stage: str
    payload_sha256: str | None
    table_name: str | None
    table_version: int | None
    log_sha256: str | None
    details: str | None  # canonical JSON
    recorded_at: datetime
    prev_hash: str
    entry_hash: str = ""

    def content(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in ENTRY_FIELDS}

    def computed_hash(self) -> str:
        return canonical_sha256(self.content())

    def sealed(self) -> AuditEntry:
        return AuditEntry(**self.content(), entry_hash=self.computed_hash())


@dataclass(frozen=True)
class Draft:
    """An entry before it is placed in the chain."""

    batch_id: str
    stage: Stage
    idempotency_key: str | None = None
    doc_sha256: str | None = None
    payload_sha256: str | None = None
    table_name: str | None = None
    table_version: int | None = None
    log_sha256: str | None = None
    details: str | None = None


def extend(head_seq: int, head_hash: str, drafts: Iterable[Draft], now: datetime) -> list[AuditEntry]:
    """Seal drafts onto the chain after (head_seq, head_hash)."""
    entries: list[AuditEntry] = []
    seq, prev = head_seq, head_hash
    for d in drafts:
        seq += 1
        entry = AuditEntry(seq=seq, batch_id=d.batch_id, idempotency_key=d.idempotency_key, doc_sha256=d.doc_sha256,
                           stage=d.stage.value, payload_sha256=d.payload_sha256, table_name=d.table_name,
                           table_version=d.table_version, log_sha256=d.log_sha256, details=d.details,
                           recorded_at=now, prev_hash=prev).sealed()
        entries.append(entry)
        prev = entry.entry_hash
    return entries


@dataclass(frozen=True)
class ChainBreak:
    seq: int | None
    reason: str


def check_chain(rows: Iterable[Mapping[str, Any]]) -> tuple[int, str, ChainBreak | None]:
    """Walk entries in seq order: (entries checked, head hash, first break or None)."""
    expected_seq, prev = 1, GENESIS
    count = 0
    for row in rows:
        entry = AuditEntry(**{k: row[k] for k in (*ENTRY_FIELDS, "entry_hash")})
        if entry.seq != expected_seq:
            kind = "missing" if entry.seq > expected_seq else "repeated or reordered"
            return count, prev, ChainBreak(expected_seq, f"entry {expected_seq} {kind} (found {entry.seq})")
        if entry.prev_hash != prev:
            return count, prev, ChainBreak(entry.seq, "prev_hash does not match the previous entry's hash")
        if entry.computed_hash() != entry.entry_hash:
            return count, prev, ChainBreak(entry.seq, "entry content was edited (hash mismatch)")
        prev, expected_seq, count = entry.entry_hash, expected_seq + 1, count + 1
    return count, prev, None
