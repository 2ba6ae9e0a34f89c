"""Micro-batch commits: bounded memory, bounded loss, exactly once, with an audit entry for every step.

Rows accumulate in the driver and are written every `every_docs` documents or `interval_s` seconds,
one Delta transaction per table per micro-batch, in a fixed order: the data tables, then the audit
entries that reference the data's Delta versions, then the ledger (`documents`), whose row is what
says a document is done. A key already present in a table (from a killed earlier run of this batch)
is never written again, so a re-run rolls forward from whatever the last run left.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from policy_ray import failpoints, logs
from policy_ray.adapters.lake import Lake
from policy_ray.adapters.lake_schema import TABLES
from policy_ray.core import rows
from policy_ray.core.audit_chain import Draft, extend
from policy_ray.core.committed_index import CommittedIndex
from policy_ray.core.digest_set import DigestSet, sha256_digest
from policy_ray.core.outcomes import DocumentResult, DocumentTask
from policy_ray.flows import audit_trail
from policy_ray.flows.audit_trail import Landed

DATA_TABLES = ("extractions", "policies", "dead_letters")
COMMIT_ORDER = (*DATA_TABLES, "documents")
KEY_COLUMN = {"extractions": "idempotency_key", "policies": "idempotency_key",
              "dead_letters": "idempotency_key", "documents": "source_uri"}


@dataclass
class BatchState:
    """What the lake already holds for this batch: the starting point of a (re-)run.

    Every set here grows with the night, so each is a DigestSet (~16 bytes a member), not a set of
    strings: a 100,000-document night must not grow the driver by its bookkeeping.
    """

    keys: dict[str, DigestSet]  # row keys per table; grows as this run stages rows
    resumed_keys: dict[str, DigestSet]  # what earlier runs left: the roll-forward decisions use this
    accounted: DigestSet  # source URIs this batch's ledger already holds
    documents: DigestSet  # content digests this batch accounted for or handed out (in-night duplicates)
    resumed_documents: int
    committed_elsewhere: CommittedIndex  # doc_sha256 -> idempotency_key, committed by any batch
    first_seen: dict[str, datetime]
    last_sequence: int
    audit_head: tuple[int, str]
    audited: DigestSet  # (idempotency_key, stage) steps this batch has in the audit trail

    @classmethod
    def load(cls, lake: Lake, batch_id: str) -> BatchState:
        keys = {name: DigestSet.of_texts(lake.keys(name, KEY_COLUMN[name], batch_id=batch_id))
                for name in COMMIT_ORDER}
        ledger = lake.ledger(batch_id)
        return cls(keys=keys, resumed_keys={name: v.copy() for name, v in keys.items()},
                   accounted=DigestSet.of_texts(ledger),
                   documents=DigestSet(sha256_digest(sha) for sha, _ in ledger.values()),
                   resumed_documents=len(ledger), committed_elsewhere=lake.committed_documents(),
                   first_seen=lake.first_seen_dead_letters(), last_sequence=lake.last_sequence(batch_id),
                   audit_head=lake.audit_head(),
                   audited=DigestSet.of_texts(audit_step(k, s) for k, s in lake.audited(batch_id)))


def audit_step(idempotency_key: str, stage: str) -> str:
    return f"{idempotency_key}\x1f{stage}"


class MicroBatchCommitter:
    def __init__(self, lake: Lake, batch_id: str, state: BatchState, *, every_docs: int, interval_s: float,
                 metadata: Mapping[str, str]):
        self.lake = lake
        self.batch_id = batch_id
        self.state = state
        self.every_docs = every_docs
        self.interval_s = interval_s
        self.metadata = dict(metadata)
        self.sequence = state.last_sequence
        self.head = state.audit_head
        self.commits = 0
        self.commit_seconds = 0.0
        self._pending: dict[str, list[dict[str, Any]]] = {name: [] for name in COMMIT_ORDER}
        self._documents: list[tuple[str, Any]] = []  # what the audit trail must say about this micro-batch
        self._events: list[Draft] = []
        self._resumed_rows: dict[str, dict[str, dict[str, Any]]] | None = None
        self._last_flush = time.monotonic()
        self.log = logs.logger.bind(batch_id=batch_id, stage="commit")

    # ---- accumulate ------------------------------------------------------------------------------------

    def add(self, result: DocumentResult) -> None:
        now = logs.now_utc()
        task = result.task
        if result.raw_payload is not None:
            self._stage("extractions", rows.extraction_row(result, now))
        if result.status == "accepted":
            self._stage("policies", rows.policy_row(result, now))
            self._stage("documents", rows.ledger_row(task, rows.COMMITTED, now))
        else:
            assert result.failure is not None
            first = self.state.first_seen.get(task.doc_sha256)
            self._stage("dead_letters", rows.dead_letter_row(result, now, first))
            self._stage("documents", rows.ledger_row(task, rows.DEAD_LETTERED, now))
        self._documents.append(("result", result))
        self._document_done()

    def add_ledger_only(self, task: DocumentTask, disposition: str) -> None:
        """Record a document whose data rows an earlier run already committed (rolled forward)."""
        self._stage("documents", rows.ledger_row(task, disposition, logs.now_utc()))
        self._documents.append(("rolled_forward", (task, disposition)))
        self._document_done()

    def add_duplicate(self, task: DocumentTask, duplicate_of: str) -> None:
        self._stage("documents", rows.ledger_row(task, rows.DUPLICATE, logs.now_utc(), duplicate_of))
        self._documents.append(("duplicate", (task, duplicate_of)))
        self._document_done()

    def add_event(self, draft: Draft) -> None:
        """A batch-level audit entry (run started, completed, ...), written with the next commit."""
        self._events.append(draft)

    def _stage(self, table: str, row: dict[str, Any]) -> None:
        key = row[KEY_COLUMN[table]]
        if self.state.keys[table].has_text(key):
            return  # already in the lake from an earlier run of this batch
        self.state.keys[table].add_text(key)
        self._pending[table].append(row)

    def _document_done(self) -> None:
        if len(self._documents) >= self.every_docs or time.monotonic() - self._last_flush >= self.interval_s:
            self.flush()

    # ---- write -----------------------------------------------------------------------------------------

    def flush(self) -> None:
        self._last_flush = time.monotonic()
        if not any(self._pending.values()) and not self._documents and not self._events:
            return
        failpoints.reach("between_micro_batches")
        self.sequence += 1
        started = time.perf_counter()
        meta = {**self.metadata, "micro_batch": str(self.sequence), "chain_head": self.head[1]}
        landed = {table: self._write(table, meta) for table in DATA_TABLES}
        self._write_audit(landed, meta)
        self._write("documents", meta)
        self.commit_seconds += time.perf_counter() - started
        self.log.info("micro-batch committed", micro_batch=self.sequence, documents=len(self._documents))
        self._documents = []

    def _write(self, table: str, meta: Mapping[str, str]) -> Landed:
        batch_rows = self._pending[table]
        self._pending[table] = []
        if not batch_rows:
            return Landed(None, None)
        for row in batch_rows:
            if "micro_batch" in TABLES[table][0].names:
                row["micro_batch"] = self.sequence
        schema, _ = TABLES[table]
        failpoints.reach(f"before_write:{table}")
        result = self.lake.append(table, pa.Table.from_pylist(batch_rows, schema=schema), batch_id=self.batch_id,
                                  sequence=self.sequence, metadata={**meta, "rows": str(len(batch_rows))})
        failpoints.reach(f"after_write:{table}")
        self.commits += 0 if result.replayed else 1
        version = result.version
        if version is None:  # replayed: the transaction was already there; find the version it wrote
            version = self.lake.version_of(table, self.batch_id, self.sequence)
        return Landed(version, self.lake.log_sha256(table, version) if version is not None else None)

    def _write_audit(self, landed: Mapping[str, Landed], meta: Mapping[str, str]) -> None:
        drafts: list[Draft] = list(self._events)
        self._events = []
        for kind, item in self._documents:
            if kind == "result":
                drafts += audit_trail.for_result(item, landed)
            elif kind == "duplicate":
                drafts += audit_trail.for_duplicate(*item)
            else:
                drafts += self._rolled_forward(*item)
        fresh = [d for d in drafts if d.idempotency_key is None
                 or not self.state.audited.has_text(audit_step(d.idempotency_key, d.stage.value))]
        if not fresh:
            return
        failpoints.reach("before_audit")
        entries = extend(self.head[0], self.head[1], fresh, logs.now_utc())
        data = pa.Table.from_pylist([e.__dict__ for e in entries], schema=TABLES["audit_log"][0])
        self.lake.append("audit_log", data, batch_id=self.batch_id, sequence=self.sequence,
                         metadata={**meta, "chain_head": entries[-1].entry_hash, "entries": str(len(entries))})
        failpoints.reach("after_audit")
        self.head = (entries[-1].seq, entries[-1].entry_hash)
        for d in fresh:
            if d.idempotency_key:
                self.state.audited.add_text(audit_step(d.idempotency_key, d.stage.value))

    def _rolled_forward(self, task: DocumentTask, disposition: str) -> list[Draft]:
        table = "policies" if disposition == rows.COMMITTED else "dead_letters"
        if self._resumed_rows is None:
            cols = ["idempotency_key", "micro_batch", "raw_sha256", "normalized_sha256", "routing_rule"]
            self._resumed_rows = {
                name: {r["idempotency_key"]: r for r in self.lake.read(
                    name, [c for c in cols if c in TABLES[name][0].names], batch_id=self.batch_id).to_pylist()}
                for name in ("policies", "dead_letters")
            }
        row = self._resumed_rows[table].get(task.idempotency_key, {})
        micro = row.get("micro_batch")
        version = self.lake.version_of(table, self.batch_id, int(micro)) if micro is not None else None
        log_sha = self.lake.log_sha256(table, version) if version is not None else None
        return audit_trail.for_rolled_forward(task, table, row, Landed(version, log_sha))
