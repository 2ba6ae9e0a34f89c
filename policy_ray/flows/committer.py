"""Micro-batch commits: bounded memory, bounded loss, exactly once, with an audit entry for every step.

Rows accumulate in the driver and are written every `every_docs` documents or `interval_s` seconds,
one Delta transaction per table per micro-batch, in a fixed order: the data tables, the ledger
(`documents`, whose row says a file is accounted for), then the audit entries, built from the rows
as committed and naming the version that added each of them. A key already present in a table
(from a killed earlier run of this batch) is never written again, so a re-run rolls forward from
whatever the last run left: data rows without a ledger row get their ledger row, and ledger rows
without their audit entries (a kill between the ledger and the audit commit) get their entries.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from policy_ray import failpoints, logs
from policy_ray.adapters.lake import Lake
from policy_ray.adapters.lake_schema import TABLES
from policy_ray.core import rows
from policy_ray.core.audit_chain import Draft, Stage
from policy_ray.core.committed_index import CommittedIndex
from policy_ray.core.digest_set import DigestSet, sha256_digest
from policy_ray.core.outcomes import DocumentResult, DocumentTask
from policy_ray.flows import audit_trail
from policy_ray.flows.audit_append import append_chain
from policy_ray.flows.audit_trail import DocumentRows, Landed, Placed

DATA_TABLES = ("extractions", "policies", "dead_letters")
COMMIT_ORDER = (*DATA_TABLES, "documents")  # then audit_log
KEY_COLUMN = {"extractions": "idempotency_key", "policies": "idempotency_key",
              "dead_letters": "idempotency_key", "documents": "source_uri"}
DATA_TABLE_OF = {rows.COMMITTED: "policies", rows.DEAD_LETTERED: "dead_letters"}


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
    audited: DigestSet  # steps (audit_trail.step_id) this batch has in the audit trail
    unaudited: list[str] = field(default_factory=list)  # ledger URIs whose audit entries a killed run never wrote

    @classmethod
    def load(cls, lake: Lake, batch_id: str) -> BatchState:
        keys = {name: DigestSet.of_texts(lake.keys(name, KEY_COLUMN[name], batch_id=batch_id))
                for name in COMMIT_ORDER}
        ledger = lake.ledger(batch_id)
        audited = DigestSet.of_texts(audit_trail.entry_step(s, k, d) for k, s, d in lake.audit_steps(batch_id))
        recorded = Stage.RECORDED.value
        return cls(keys=keys, resumed_keys={name: v.copy() for name, v in keys.items()},
                   accounted=DigestSet.of_texts(ledger),
                   documents=DigestSet(sha256_digest(sha) for sha, _ in ledger.values()),
                   resumed_documents=len(ledger), committed_elsewhere=lake.committed_documents(),
                   first_seen=lake.first_seen_dead_letters(), last_sequence=lake.last_sequence(batch_id),
                   audit_head=lake.chain_head(), audited=audited,
                   unaudited=[u for u in ledger if not audited.has_text(audit_trail.step_id(recorded, None, u))])


@dataclass
class Written:
    """One table's commit of a micro-batch: where it landed and its rows as committed, by key."""

    landed: Landed
    rows: dict[str, dict[str, Any]]


class MicroBatchCommitter:
    def __init__(self, lake: Lake, batch_id: str, state: BatchState, *, every_docs: int, interval_s: float,
                 metadata: Mapping[str, str], fence: Callable[[], None] | None = None):
        self.lake = lake
        self.batch_id = batch_id
        self.state = state
        self.every_docs = every_docs
        self.interval_s = interval_s
        self.metadata = dict(metadata)
        self.fence = fence  # raises when this run no longer holds the batch (checked before each commit)
        self.sequence = state.last_sequence
        self.head = state.audit_head
        self.commits = 0
        self.commit_seconds = 0.0
        self._pending: dict[str, list[dict[str, Any]]] = {name: [] for name in COMMIT_ORDER}
        # Files whose audit entries this micro-batch writes: (ledger key, rolled forward from an earlier run)
        self._files: list[tuple[str, bool]] = [(uri, True) for uri in state.unaudited]
        self._events: list[Draft] = []
        self._versions: dict[str, dict[tuple[str, str], int]] = {}
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
        self._file_done(task.source_uri, rolled_forward=False)

    def add_ledger_only(self, task: DocumentTask, disposition: str) -> None:
        """Record a document whose data rows an earlier run already committed (rolled forward)."""
        self._stage("documents", rows.ledger_row(task, disposition, logs.now_utc()))
        self._file_done(task.source_uri, rolled_forward=True)

    def add_duplicate(self, task: DocumentTask, duplicate_of: str) -> None:
        self._stage("documents", rows.ledger_row(task, rows.DUPLICATE, logs.now_utc(), duplicate_of))
        self._file_done(task.source_uri, rolled_forward=False)

    def add_event(self, draft: Draft) -> None:
        """A batch-level audit entry (run started, completed, ...), written with the next commit."""
        self._events.append(draft)

    def _stage(self, table: str, row: dict[str, Any]) -> None:
        key = row[KEY_COLUMN[table]]
        if self.state.keys[table].has_text(key):
            return  # already in the lake from an earlier run of this batch: its entries will name that row
        self.state.keys[table].add_text(key)
        self._pending[table].append(row)

    def _file_done(self, uri: str, *, rolled_forward: bool) -> None:
        self._files.append((uri, rolled_forward))
        if len(self._files) >= self.every_docs or time.monotonic() - self._last_flush >= self.interval_s:
            self.flush()

    # ---- write -----------------------------------------------------------------------------------------

    def flush(self) -> None:
        self._last_flush = time.monotonic()
        if not any(self._pending.values()) and not self._files and not self._events:
            return
        if self.fence is not None:
            self.fence()
        failpoints.reach("between_micro_batches")
        self.sequence += 1
        started = time.perf_counter()
        meta = {**self.metadata, "micro_batch": str(self.sequence), "chain_seq": str(self.head[0]),
                "chain_head": self.head[1]}
        written = {table: self._write(table, meta) for table in COMMIT_ORDER}
        self._write_audit(written, meta)
        self.commit_seconds += time.perf_counter() - started
        self.log.info("micro-batch committed", micro_batch=self.sequence, documents=len(self._files))
        self._files = []

    def _write(self, table: str, meta: Mapping[str, str]) -> Written:
        batch_rows = self._pending[table]
        self._pending[table] = []
        if not batch_rows:
            return Written(Landed(None, None), {})
        for row in batch_rows:
            if "micro_batch" in TABLES[table][0].names:
                row["micro_batch"] = self.sequence
        schema, _ = TABLES[table]
        data = pa.Table.from_pylist(batch_rows, schema=schema)
        failpoints.reach(f"before_write:{table}")
        result = self.lake.append(table, data, batch_id=self.batch_id, sequence=self.sequence,
                                  metadata={**meta, "rows": str(len(batch_rows))})
        failpoints.reach(f"after_write:{table}")
        self.commits += 0 if result.replayed else 1
        version = result.version
        if version is None:  # replayed: the transaction was already there; find the version it wrote
            version = self._version(table, self.sequence)
        landed = Landed(version, self.lake.log_sha256(table, version) if version is not None else None)
        # Rows as Arrow returns them (cast to the schema): the form `audit verify` hashes read-back rows in.
        return Written(landed, {r[KEY_COLUMN[table]]: r for r in data.to_pylist()})

    def _write_audit(self, written: Mapping[str, Written], meta: Mapping[str, str]) -> None:
        drafts: list[Draft] = list(self._events)
        self._events = []
        for doc, rolled_forward in self._documents(written):
            drafts += audit_trail.for_document(doc, self.batch_id, rolled_forward=rolled_forward)
        fresh = [d for d in drafts if d.idempotency_key is None
                 or not self.state.audited.has_text(audit_trail.draft_step(d))]
        if not fresh:
            return
        failpoints.reach("before_audit")
        _, entries = append_chain(self.lake, self.batch_id, self.sequence, fresh, meta)
        failpoints.reach("after_audit")
        self.head = (entries[-1].seq, entries[-1].entry_hash) if entries else self.lake.chain_head()
        for d in fresh:
            if d.idempotency_key:
                self.state.audited.add_text(audit_trail.draft_step(d))

    # ---- the rows each file's entries are built from ----------------------------------------------------

    def _documents(self, written: Mapping[str, Written]) -> list[tuple[DocumentRows, bool]]:
        """Each file of this micro-batch with its rows: written now, or left by an earlier run (then read
        back from the lake, with the version that added them)."""
        uris = [uri for uri, _ in self._files]
        ledgers = self._placed("documents", uris, written)
        wanted: dict[str, list[str]] = {"extractions": [], "policies": [], "dead_letters": []}
        for uri in uris:
            ledger = ledgers.get(uri)
            if ledger is None or ledger.row["disposition"] == rows.DUPLICATE:
                continue
            key = ledger.row["idempotency_key"]
            wanted["extractions"].append(key)
            wanted[DATA_TABLE_OF[ledger.row["disposition"]]].append(key)
        found = {table: self._placed(table, keys, written) for table, keys in wanted.items()}
        out: list[tuple[DocumentRows, bool]] = []
        for uri, rolled_forward in self._files:
            ledger = ledgers.get(uri)
            if ledger is None:
                self.log.error("ledger row missing for an accounted file", source_uri=uri)
                continue
            key, disposition = ledger.row["idempotency_key"], ledger.row["disposition"]
            data = found[DATA_TABLE_OF[disposition]].get(key) if disposition in DATA_TABLE_OF else None
            extraction = found["extractions"].get(key) if disposition != rows.DUPLICATE else None
            out.append((DocumentRows(ledger, extraction, data), rolled_forward))
        return out

    def _placed(self, table: str, keys: list[str], written: Mapping[str, Written]) -> dict[str, Placed]:
        now = written[table]
        out = {k: Placed(now.rows[k], now.landed) for k in keys if k in now.rows}
        earlier = [k for k in dict.fromkeys(keys) if k not in out and self.state.keys[table].has_text(k)]
        for row in self.lake.rows_where(table, KEY_COLUMN[table], earlier, batch_id=self.batch_id):
            micro = row.get("micro_batch")
            version = self._version(table, int(micro)) if micro is not None else None
            log = self.lake.log_sha256(table, version) if version is not None else None
            out[row[KEY_COLUMN[table]]] = Placed(row, Landed(version, log))
        return out

    def _version(self, table: str, micro_batch: int) -> int | None:
        """The version micro-batch `micro_batch` of this batch wrote (one history read per table, again
        only when a micro-batch is not in what was read)."""
        key = (self.batch_id, str(micro_batch))
        if key not in self._versions.get(table, {}):
            self._versions[table] = self.lake.version_map(table)
        return self._versions[table].get(key)
