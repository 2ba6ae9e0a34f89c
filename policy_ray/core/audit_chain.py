"""The audit hash chain: every lifecycle step of every document is an entry whose hash covers its
canonical content and the previous entry's hash. Nights link to each other (a night's first entry
points at the previous night's head), so the whole history verifies from the first night.

Pure: building entries, hashing, and checking a sequence of entries against itself and against the
head the lake recorded. Reading tables and Delta logs to compare against is the verify flow's job.
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
    EXTRACTED = "extracted"  # payload: raw_sha256 of the text-path raw payload; row: the extractions row
    OCR = "ocr"  # payload: raw_sha256 of the OCR raw payload; row: the extractions row
    NORMALIZED = "normalized"  # payload: normalized_sha256 of the record
    COMMITTED = "committed"  # payload: normalized_sha256; row: the policies row, its version and log hash
    DEAD_LETTERED = "dead_lettered"  # payload: raw_sha256 (if any); row: the dead_letters row
    DUPLICATE = "duplicate"
    RECORDED = "recorded"  # payload: the file's sha256; row: the ledger (`documents`) row
    BATCH_COMPLETED = "batch_completed"
    BATCH_QUARANTINED = "batch_quarantined"
    BATCH_RELEASED = "batch_released"  # a reviewer released a quarantined batch (their reason in details)
    REPLAYED = "replayed"  # a dead letter re-submitted; row (optional): its status and resolution after it


# Steps of one input file (two files with the same bytes in one night are two files, one document);
# every other document step is keyed by the idempotency key.
FILE_STAGES = frozenset({Stage.RECEIVED.value, Stage.DUPLICATE.value, Stage.RECORDED.value})

ENTRY_FIELDS = ("seq", "batch_id", "idempotency_key", "doc_sha256", "stage", "payload_sha256", "table_name",
                "table_version", "log_sha256", "row_sha256", "details", "recorded_at", "prev_hash")


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
    row_sha256: str | None  # sha256 of the whole committed row (core/row_digest.py)
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
    row_sha256: str | None = None


def extend(head_seq: int, head_hash: str, drafts: Iterable[Draft], now: datetime) -> list[AuditEntry]:
    """Seal drafts onto the chain after (head_seq, head_hash)."""
    entries: list[AuditEntry] = []
    seq, prev = head_seq, head_hash
    for d in drafts:
        seq += 1
        entry = AuditEntry(seq=seq, batch_id=d.batch_id, idempotency_key=d.idempotency_key, doc_sha256=d.doc_sha256,
                           stage=d.stage.value, payload_sha256=d.payload_sha256, table_name=d.table_name,
                           table_version=d.table_version, log_sha256=d.log_sha256, row_sha256=d.row_sha256,
                           details=d.details, recorded_at=now, prev_hash=prev).sealed()
        entries.append(entry)
        prev = entry.entry_hash
    return entries


@dataclass(frozen=True)
class ChainBreak:
    seq: int | None
    reason: str


class ChainWalker:
    """Checks entries fed one at a time in seq order, so a long history is never held at once."""

    def __init__(self) -> None:
        self.expected_seq, self.head, self.count = 1, GENESIS, 0
        self.broken: ChainBreak | None = None

    def feed(self, row: Mapping[str, Any]) -> ChainBreak | None:
        if self.broken is not None:
            return self.broken
        values: dict[str, Any] = {k: row.get(k) for k in (*ENTRY_FIELDS, "entry_hash")}
        entry = AuditEntry(**values)
        if entry.seq != self.expected_seq:
            kind = "missing" if entry.seq > self.expected_seq else "repeated or reordered"
            self.broken = ChainBreak(self.expected_seq, f"entry {self.expected_seq} {kind} (found {entry.seq})")
        elif entry.prev_hash != self.head:
            self.broken = ChainBreak(entry.seq, "prev_hash does not match the previous entry's hash")
        elif entry.computed_hash() != entry.entry_hash:
            self.broken = ChainBreak(entry.seq, "entry content was edited (hash mismatch)")
        else:
            self.head, self.expected_seq, self.count = entry.entry_hash, self.expected_seq + 1, self.count + 1
        return self.broken


def check_chain(rows: Iterable[Mapping[str, Any]]) -> tuple[int, str, ChainBreak | None]:
    """Walk entries in seq order: (entries checked, head hash, first break or None)."""
    walker = ChainWalker()
    for row in rows:
        if walker.feed(row) is not None:
            break
    return walker.count, walker.head, walker.broken


def check_anchor(count: int, head: str, anchor_seq: int, anchor_head: str, where: str) -> ChainBreak | None:
    """Compare the recomputed head (entries 1..count, ending in `head`) with a head the lake recorded
    elsewhere (`where`): a chain that verifies by itself but ends early was cut off at the tail."""
    if count < anchor_seq:
        return ChainBreak(count + 1, f"audit trail truncated: entries {count + 1}..{anchor_seq} are missing "
                                     f"({where} recorded head {anchor_seq} {anchor_head[:16]})")
    if count == anchor_seq and head != anchor_head:
        return ChainBreak(count, f"chain head {head[:16]} differs from the head {where} recorded "
                                 f"({anchor_head[:16]})")
    return None


@dataclass(frozen=True)
class PublishedHead:
    """A chain head kept outside the lake (a write-once bucket, a ticket, a message to compliance),
    written `SEQ:HASH`. Whoever can rewrite the lake's tables, its commit metadata and its batch rows
    together can forge a chain that verifies by itself; not one that still has this entry at SEQ."""

    seq: int
    entry_hash: str

    @classmethod
    def parse(cls, text: str) -> PublishedHead:
        seq, sep, entry_hash = text.strip().partition(":")
        if not sep or not seq.isdigit() or int(seq) < 1 or len(entry_hash) != 64 \
                or any(c not in "0123456789abcdef" for c in entry_hash):
            raise ValueError(f"a published head is SEQ:HASH (a positive seq, 64 hex digits), not {text!r}")
        return cls(int(seq), entry_hash)

    def __str__(self) -> str:
        return f"{self.seq}:{self.entry_hash}"


def check_published(published: PublishedHead, count: int, found_hash: str | None) -> ChainBreak | None:
    """The chain (entries 1..count) against a head published earlier: `found_hash` is the hash of the
    chain's entry at `published.seq` (None when the chain has no such entry)."""
    if published.seq > count or found_hash is None:
        return ChainBreak(published.seq, f"the chain ends at entry {count}, before the published head {published.seq} "
                                         "(entries removed since it was published)")
    if found_hash != published.entry_hash:
        return ChainBreak(published.seq, f"entry {published.seq} hashes to {found_hash[:16]}, not to the published "
                                         f"head {published.entry_hash[:16]}: the history up to it was rewritten")
    return None
