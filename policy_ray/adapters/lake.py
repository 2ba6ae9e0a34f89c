"""Delta Lake tables under LAKE/: creation with evidence-keeping retention, idempotent appends that
carry (app id, version) transactions and custom metadata, and the reads a run needs to resume.

delta-rs does not skip a replayed app transaction by itself, so `append` checks
`transaction_version` first, and after an error whose outcome is unknown it asks the table again
instead of writing twice.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

from policy_ray.adapters import storage
from policy_ray.adapters.lake_schema import TABLES
from policy_ray.core.committed_index import CommittedIndex

DEFAULT_RETENTION_DAYS = 7 * 365 + 2  # seven years (SOX record keeping), leap days included
APP_ID_PREFIX = "policy-ray"
COMMIT_RETRIES = 5


class LakeUnavailable(Exception):
    """The lake cannot be read or written: the night itself cannot be done."""


@dataclass(frozen=True)
class CommitResult:
    table: str
    version: int | None  # table version written, None when the transaction was already there
    rows: int
    replayed: bool


def app_id(batch_id: str, table: str) -> str:
    return f"{APP_ID_PREFIX}:{batch_id}:{table}"


class Lake:
    def __init__(self, uri: str, *, storage_options: Mapping[str, str] | None = None,
                 retention_days: int = DEFAULT_RETENTION_DAYS):
        self.uri = uri.rstrip("/")
        self.storage_options = storage.delta_storage_options(self.uri, storage_options)  # + AWS_* env on s3://
        self.retention_days = retention_days

    def table_uri(self, name: str) -> str:
        return f"{self.uri}/{name}"

    # ---- tables -------------------------------------------------------------------------------------

    def ensure_tables(self) -> None:
        if "://" not in self.uri:
            import os

            os.makedirs(self.uri, exist_ok=True)
        retention = f"interval {self.retention_days} days"
        for name, (schema, partitions) in TABLES.items():
            try:
                if DeltaTable.is_deltatable(self.table_uri(name), storage_options=self.storage_options):
                    continue
                DeltaTable.create(
                    self.table_uri(name),
                    schema,
                    partition_by=partitions or None,
                    mode="ignore",
                    name=name,
                    configuration={
                        # Defaults (30 days of log, 7 days before vacuum) would erase audit evidence.
                        "delta.logRetentionDuration": retention,
                        "delta.deletedFileRetentionDuration": retention,
                        "delta.checkpointInterval": "50",
                    },
                    storage_options=self.storage_options or None,
                )
            except (OSError, DeltaError) as exc:
                raise LakeUnavailable(f"cannot create table {name} under {self.uri}: {exc}") from exc

    def table(self, name: str, version: int | None = None) -> DeltaTable:
        try:
            return DeltaTable(self.table_uri(name), version=version, storage_options=self.storage_options or None)
        except TableNotFoundError as exc:
            raise LakeUnavailable(f"table {name} not found under {self.uri}") from exc

    def read(self, name: str, columns: Sequence[str] | None = None, *, batch_id: str | None = None,
             version: int | None = None) -> pa.Table:
        # Read through a pyarrow dataset: DeltaTable.to_pyarrow_table() on a table with a
        # tz-aware timestamp column aborted the interpreter at exit (deltalake 1.6.6, seen here).
        dataset = self.table(name, version).to_pyarrow_dataset()
        flt = ds.field("batch_id") == batch_id if batch_id is not None else None
        return dataset.to_table(columns=list(columns) if columns else None, filter=flt)

    # ---- writes ---------------------------------------------------------------------------------------

    def append(self, name: str, rows: pa.Table, *, batch_id: str, sequence: int,
               metadata: Mapping[str, Any]) -> CommitResult:
        """Append rows as transaction (policy-ray:<batch>:<table>, sequence), at most once."""
        txn = app_id(batch_id, name)
        schema, _ = TABLES[name]
        data = rows.select(schema.names).cast(schema)
        for attempt in range(1, COMMIT_RETRIES + 1):
            table = self.table(name)
            committed = table.transaction_version(txn)
            if committed is not None and committed >= sequence:
                return CommitResult(name, None, data.num_rows, replayed=True)
            try:
                write_deltalake(
                    table,
                    data,
                    mode="append",
                    commit_properties=CommitProperties(
                        custom_metadata={k: str(v) for k, v in metadata.items()},
                        app_transactions=[Transaction(app_id=txn, version=sequence)],
                    ),
                    storage_options=self.storage_options or None,
                )
                return CommitResult(name, self.table(name).version(), data.num_rows, replayed=False)
            except CommitFailedError:
                # A concurrent writer with the same app id: someone else runs this batch.
                raise
            except (OSError, DeltaError) as exc:
                # Outcome unknown: the loop re-reads the transaction version before writing again.
                if attempt == COMMIT_RETRIES:
                    raise LakeUnavailable(f"commit to {name} failed: {exc}") from exc
                time.sleep(min(2.0**attempt * 0.1, 5.0))
        raise AssertionError("unreachable")

    def upsert(self, name: str, rows: Sequence[Mapping[str, Any]], *, key: str, metadata: Mapping[str, Any],
               app_transaction: tuple[str, int] | None = None) -> None:
        """Merge rows by key. With an app transaction, a concurrent commit of the same one fails
        (CommitFailedError): that is how two runs racing for one batch are told apart."""
        schema, _ = TABLES[name]
        data = pa.Table.from_pylist(list(rows), schema=schema)
        txns = [Transaction(app_id=app_transaction[0], version=app_transaction[1])] if app_transaction else None
        (
            self.table(name)
            .merge(data, predicate=f"t.{key} = s.{key}", source_alias="s", target_alias="t",
                   commit_properties=CommitProperties(custom_metadata={k: str(v) for k, v in metadata.items()},
                                                      app_transactions=txns))
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute()
        )

    def update_columns(self, name: str, rows: Sequence[Mapping[str, Any]], *, key: str, columns: Sequence[str],
                       metadata: Mapping[str, Any]) -> None:
        """Set `columns` of existing rows (matched on `key`) from `rows`; other columns stay as they are."""
        if not rows:
            return
        schema, _ = TABLES[name]
        fields = [schema.field(key), *(schema.field(c) for c in columns)]
        data = pa.Table.from_pylist([{f.name: r.get(f.name) for f in fields} for r in rows], schema=pa.schema(fields))
        (
            self.table(name)
            .merge(data, predicate=f"t.{key} = s.{key}", source_alias="s", target_alias="t",
                   commit_properties=CommitProperties(custom_metadata={k: str(v) for k, v in metadata.items()}))
            .when_matched_update(updates={c: f"s.{c}" for c in columns})
            .execute()
        )

    # ---- what a run needs to know before it starts ---------------------------------------------------

    def keys(self, name: str, column: str, *, batch_id: str | None = None) -> set[str]:
        values = self.read(name, [column], batch_id=batch_id).column(column)
        return {v for v in values.to_pylist() if v is not None}

    def log_sha256(self, name: str, version: int) -> str | None:
        """sha256 of the Delta log file of `version`: pins what that commit said, for the audit trail."""
        path = f"{self.table_uri(name)}/_delta_log/{version:020d}.json"
        try:
            if "://" not in path:
                with open(path, "rb") as f:
                    return hashlib.sha256(f.read()).hexdigest()
            fs, inner = storage.filesystem_for(path, self.storage_options)
            with fs.open_input_stream(inner) as stream:
                return hashlib.sha256(stream.read()).hexdigest()
        except (OSError, FileNotFoundError):
            return None

    def version_of(self, name: str, batch_id: str, micro_batch: int) -> int | None:
        """The table version that micro-batch `micro_batch` of `batch_id` wrote, from commit metadata."""
        for entry in self.table(name).history():
            if entry.get("batch_id") == batch_id and str(entry.get("micro_batch")) == str(micro_batch):
                return int(entry["version"])
        return None

    def audit_head(self) -> tuple[int, str]:
        """(seq, entry_hash) of the last audit entry; (0, genesis) for an empty trail."""
        t = self.read("audit_log", ["seq", "entry_hash"])
        if t.num_rows == 0:
            return 0, "0" * 64
        last = pc.max(t.column("seq")).as_py()
        row = t.filter(pc.equal(t.column("seq"), last)).slice(0, 1).to_pylist()[0]
        return int(row["seq"]), str(row["entry_hash"])

    def audited(self, batch_id: str) -> set[tuple[str, str]]:
        """(idempotency_key, stage) pairs this batch already has in the audit trail."""
        t = self.read("audit_log", ["idempotency_key", "stage"], batch_id=batch_id)
        return {(k or "", s) for k, s in zip(t.column("idempotency_key").to_pylist(), t.column("stage").to_pylist(),
                                              strict=True)}

    def last_sequence(self, batch_id: str) -> int:
        versions = [self.table(n).transaction_version(app_id(batch_id, n)) for n in TABLES if n != "batches"]
        return max((v for v in versions if v is not None), default=0)

    def committed_documents(self) -> CommittedIndex:
        """doc_sha256 -> idempotency_key of every document committed to `policies`, any night: scanned
        batch by batch into a compact index, never as one table of the lake's whole history."""
        dataset = self.table("policies").to_pyarrow_dataset()
        batches = dataset.to_batches(columns=["doc_sha256", "idempotency_key"])
        return CommittedIndex.build((b.column(0).to_pylist(), b.column(1).to_pylist()) for b in batches)

    def first_seen_dead_letters(self) -> dict[str, Any]:
        t = self.read("dead_letters", ["doc_sha256", "first_seen"])
        if t.num_rows == 0:
            return {}
        grouped = t.group_by("doc_sha256").aggregate([("first_seen", "min")])
        return dict(zip(grouped.column("doc_sha256").to_pylist(), grouped.column("first_seen_min").to_pylist(),
                        strict=True))

    def batch_row(self, batch_id: str) -> dict[str, Any] | None:
        t = self.read("batches", batch_id=batch_id)
        return t.slice(0, 1).to_pylist()[0] if t.num_rows else None

    def ledger(self, batch_id: str) -> dict[str, tuple[str, str]]:
        """source_uri -> (doc_sha256, idempotency_key) for files this batch already accounted for."""
        t = self.read("documents", ["source_uri", "doc_sha256", "idempotency_key"], batch_id=batch_id)
        return {u: (s, k) for u, s, k in zip(*(t.column(c).to_pylist() for c in t.column_names), strict=True)}


def count_by(table: pa.Table, column: str) -> dict[str, int]:
    if table.num_rows == 0:
        return {}
    counts = pc.value_counts(table.column(column))
    return {str(item["values"]): int(item["counts"]) for item in counts.to_pylist()}

