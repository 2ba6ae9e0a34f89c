"""Units of work and their results, as they travel between the driver and the actors."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from policy_ray.core.identity import canonical_sha256
from policy_ray.core.models import PolicyRecord
from policy_ray.errors import Failure


@dataclass(frozen=True)
class DocumentTask:
    source_uri: str
    doc_sha256: str
    size_bytes: int
    batch_id: str
    batch_date: date
    idempotency_key: str
    attempt: int = 1
    failures: tuple[Failure, ...] = ()  # worker failures of earlier attempts

    @property
    def short(self) -> str:
        return self.doc_sha256[:12]

    def next_attempt(self, failure: Failure) -> DocumentTask:
        return dataclasses.replace(self, attempt=self.attempt + 1, failures=(*self.failures, failure))


@dataclass(frozen=True)
class WorkerStats:
    actor_id: str
    pid: int
    node_id: str
    rss_mb: float
    calls: int
    retire: bool = False  # the worker asks to be replaced (e.g. after a MemoryError)


@dataclass(frozen=True)
class DocumentResult:
    task: DocumentTask
    status: str  # "accepted" | "dead_letter" | "ocr"
    record: PolicyRecord | None = None
    confidence: float = 0.0
    field_confidence: dict[str, float] = field(default_factory=dict)
    routing_rule: str = ""
    extraction_path: str = "text"
    raw_payload: dict[str, Any] | None = None
    raw_sha256: str | None = None
    normalized_sha256: str | None = None
    page_count: int = 0
    failure: Failure | None = None
    partial_fields: dict[str, Any] | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    worker: WorkerStats | None = None


def record_payload(record: PolicyRecord) -> dict[str, Any]:
    """The business content of a committed row: what normalized_sha256 covers."""
    return dataclasses.asdict(record)


def normalized_sha256(record: PolicyRecord) -> str:
    return canonical_sha256(record_payload(record))
