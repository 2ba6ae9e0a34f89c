"""Whole-row hashes: what an audit entry pins of every row the job commits for a document. Pure.

A row is hashed as canonical JSON of all its columns (binary columns as the sha256 of their bytes),
except the columns a later lifecycle step legitimately changes: a dead letter's `status` and
`resolution`, which a replay rewrites (its `replayed` entry can pin them: `status_sha256`). Both the
committer and `audit verify` hash rows as Arrow returns them (`Table.to_pylist()` after casting to
the table's schema), so a value hashes the same whether it was just written or read back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from policy_ray.core.identity import canonical_sha256

MUTABLE_COLUMNS: dict[str, frozenset[str]] = {"dead_letters": frozenset({"status", "resolution"})}


def _value(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"sha256": hashlib.sha256(bytes(value)).hexdigest()}
    return value


def row_sha256(table: str, row: Mapping[str, Any]) -> str:
    skip = MUTABLE_COLUMNS.get(table, frozenset())
    return canonical_sha256({k: _value(v) for k, v in row.items() if k not in skip})


def status_sha256(status: str | None, resolution: str | None) -> str:
    """A dead letter's mutable part (what a replay decided), for the replay's audit entry."""
    return canonical_sha256({"status": status, "resolution": resolution})
