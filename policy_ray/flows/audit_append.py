"""Appending to the audit chain, safely while other processes append too.

Every append reads the chain's head from the audit_log snapshot it is about to commit on, seals the
entries after that head, and commits them conditionally (`Lake.append_chained`): if any other
append (another night, a reconciliation, a release, a dead-letter replay) landed in between, the
commit fails and the entries are sealed again on the new head. So the chain stays one line:
sequence numbers are never repeated and every entry's prev_hash is the entry before it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable

from policy_ray import logs
from policy_ray.adapters.lake import CommitResult, Lake
from policy_ray.adapters.lake_schema import TABLES
from policy_ray.core.audit_chain import AuditEntry, Draft, extend


def append_chain(lake: Lake, batch_id: str, sequence: int, drafts: Sequence[Draft],
                 metadata: Mapping[str, Any] | None = None) -> tuple[CommitResult, list[AuditEntry] | None]:
    """Seal `drafts` onto the chain as transaction (batch, sequence). The entries are None when the
    transaction was already in the table (a re-run after an unknown outcome): they are there."""

    def build(snapshot: DeltaTable) -> tuple[pa.Table, dict[str, str], list[AuditEntry]]:
        seq, head = lake.chain_head(snapshot)
        entries = extend(seq, head, drafts, logs.now_utc())
        data = pa.Table.from_pylist([e.__dict__ for e in entries], schema=TABLES["audit_log"][0])
        # The commit names the head it leaves: the anchor `audit verify` checks the chain's tail against.
        return data, {**(metadata or {}), "chain_seq": str(entries[-1].seq), "chain_head": entries[-1].entry_hash,
                      "entries": str(len(entries))}, entries

    return lake.append_chained("audit_log", build, batch_id=batch_id, sequence=sequence)


def append_entries(lake: Lake, batch_id: str, drafts: list[Draft]) -> list[AuditEntry]:
    """Audit entries written outside a night's micro-batches (reconciliation, release, replay)."""
    _, entries = append_chain(lake, batch_id, lake.last_sequence(batch_id) + 1, drafts,
                              {"event": drafts[0].stage.value if drafts else "audit"})
    return entries or []
