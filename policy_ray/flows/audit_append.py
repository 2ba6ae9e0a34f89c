"""Audit entries written outside a night's micro-batches (reconciliation, release, replay)."""

from __future__ import annotations

import pyarrow as pa

from policy_ray import logs
from policy_ray.adapters.lake import Lake
from policy_ray.adapters.lake_schema import TABLES
from policy_ray.core.audit_chain import AuditEntry, Draft, extend


def append_entries(lake: Lake, batch_id: str, drafts: list[Draft]) -> list[AuditEntry]:
    seq, head = lake.audit_head()
    entries = extend(seq, head, drafts, logs.now_utc())
    data = pa.Table.from_pylist([e.__dict__ for e in entries], schema=TABLES["audit_log"][0])
    lake.append("audit_log", data, batch_id=batch_id, sequence=lake.last_sequence(batch_id) + 1,
                metadata={"batch_id": batch_id, "chain_head": entries[-1].entry_hash, "entries": str(len(entries))})
    return entries
