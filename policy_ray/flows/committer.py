"""Micro-batch commits: bounded memory, bounded loss, exactly once.

Rows accumulate in the driver and are written every `every_docs` documents or `interval_s` seconds,
one Delta transaction per table per micro-batch, in a fixed order that ends with the ledger
(`documents`). A key already present in a table (from a killed earlier run of this batch) is never
written again, so a re-run rolls forward from whatever the last run left.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from policy_ray import logs
from policy_ray.adapters.lake import Lake
from policy_ray.adapters.lake_schema import TABLES
from policy_ray.core import rows
from policy_ray.core.outcomes import DocumentResult, DocumentTask

COMMIT_ORDER = ("extractions", "policies", "dead_letters", "documents")
KEY_COLUMN = {"extractions": "idempotency_key", "policies": "idempotency_key",
              "dead_letters": "idempotency_key", "documents": "source_uri"}


@dataclass
class BatchState:
    """What the lake already holds for this batch: the starting point of a (re-)run."""

    keys: dict[str, set[str]]  # grows as this run stages rows
    resumed_keys: dict[str, frozenset[str]]  # what earlier runs left: the roll-forward decisions use this
    ledger: dict[str, tuple[str, str]]  # source_uri -> (doc_sha256, idempotency_key)
    committed_elsewhere: dict[str, str]  # doc_sha256 -> idempotency_key, committed by any batch
    first_seen: dict[str, datetime]
    last_sequence: int

    @classmethod
    def load(cls, lake: Lake, batch_id: str) -> BatchState:
        keys = {name: lake.keys(name, KEY_COLUMN[name], batch_id=batch_id) for name in COMMIT_ORDER}
        return cls(keys=keys, resumed_keys={name: frozenset(v) for name, v in keys.items()},
                   ledger=lake.ledger(batch_id), committed_elsewhere=lake.committed_documents(),
                   first_seen=lake.first_seen_dead_letters(), last_sequence=lake.last_sequence(batch_id))


@dataclass
class Counts:
    accepted: int = 0
    dead_lettered: int = 0
    duplicates: int = 0
    sent_to_ocr: int = 0
    categories: Counter[str] = field(default_factory=Counter)
    routes: Counter[str] = field(default_factory=Counter)


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
        self.counts = Counts()
        self.commits = 0
        self.commit_seconds = 0.0
        self._pending: dict[str, list[dict[str, Any]]] = {name: [] for name in COMMIT_ORDER}
        self._pending_docs = 0
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
            self.counts.accepted += 1
        else:
            assert result.failure is not None
            first = self.state.first_seen.get(task.doc_sha256)
            self._stage("dead_letters", rows.dead_letter_row(result, now, first))
            self._stage("documents", rows.ledger_row(task, rows.DEAD_LETTERED, now))
            self.counts.dead_lettered += 1
            self.counts.categories[result.failure.category.value] += 1
        self.counts.routes[result.routing_rule or (result.failure.category.value if result.failure else "")] += 1
        self._document_done()

    def add_ledger_only(self, task: DocumentTask, disposition: str) -> None:
        """Record the ledger row of a document whose data rows an earlier run already committed."""
        self._stage("documents", rows.ledger_row(task, disposition, logs.now_utc()))
        self._document_done()

    def add_duplicate(self, task: DocumentTask, duplicate_of: str) -> None:
        self._stage("documents", rows.ledger_row(task, rows.DUPLICATE, logs.now_utc(), duplicate_of))
        self.counts.duplicates += 1
        self._document_done()

    def _stage(self, table: str, row: dict[str, Any]) -> None:
        key = row[KEY_COLUMN[table]]
        if key in self.state.keys[table]:
            return  # already in the lake from an earlier run of this batch
        self.state.keys[table].add(key)
        self._pending[table].append(row)

    def _document_done(self) -> None:
        self._pending_docs += 1
        if self._pending_docs >= self.every_docs or time.monotonic() - self._last_flush >= self.interval_s:
            self.flush()

    # ---- write -----------------------------------------------------------------------------------------

    def flush(self) -> None:
        self._last_flush = time.monotonic()
        if not any(self._pending.values()):
            return
        self.sequence += 1
        started = time.perf_counter()
        for table in COMMIT_ORDER:
            batch_rows = self._pending[table]
            if not batch_rows:
                continue
            schema, _ = TABLES[table]
            data = pa.Table.from_pylist(batch_rows, schema=schema)
            meta = {**self.metadata, "micro_batch": str(self.sequence), "rows": str(len(batch_rows))}
            result = self.lake.append(table, data, batch_id=self.batch_id, sequence=self.sequence, metadata=meta)
            self.commits += 0 if result.replayed else 1
            self._pending[table] = []
        self.commit_seconds += time.perf_counter() - started
        self.log.info("micro-batch committed", micro_batch=self.sequence, documents=self._pending_docs)
        self._pending_docs = 0
