"""Content identity: document hashes, idempotency keys and canonical hashing of payloads."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

HASH_CHUNK_BYTES = 1 << 20


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def idempotency_key(doc_sha256: str, batch_id: str) -> str:
    """Same document in the same batch -> same key, whatever the file is called or how often we run."""
    return hashlib.sha256(f"{doc_sha256}:{batch_id}".encode()).hexdigest()


def _canonical_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"not canonically serializable: {type(value).__name__}")


def canonical_json(value: Any) -> bytes:
    """Deterministic bytes for hashing: sorted keys, no whitespace, decimals as plain strings."""
    return json.dumps(
        value, default=_canonical_default, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def canonical_sha256(value: Any) -> str:
    return sha256_hex(canonical_json(value))
