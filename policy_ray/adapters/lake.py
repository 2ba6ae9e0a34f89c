"""Delta Lake tables under LAKE/: creation with evidence-keeping retention, idempotent appends that
carry (app id, version) transactions, conditional commits, custom metadata on every commit, and the
reads a run and `audit verify` need.

delta-rs does not skip a replayed app transaction by itself, so `append` checks
`transaction_version` first, and after an error whose outcome is unknown it asks the table again
instead of writing twice. A *conditional* commit (`append_chained`, `swap`, the audit log's
compaction) is made with `max_commit_retries=0` against the snapshot its content was computed from:
delta-rs 1.6 then fails it with CommitFailedError when any other commit landed on the table since
that snapshot, instead of rebasing it (tests/adapters/test_lake.py checks this), and the caller
recomputes on a fresh snapshot.

Every commit carries `METADATA_KEYS`: the adapter adds the code version, the pipeline data versions
and (unless the caller names it) the audit chain's head, and refuses a commit that names no batch.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

from policy_ray import code_version
from policy_ray.adapters import storage
from policy_ray.adapters.lake_schema import TABLES
from policy_ray.core.committed_index import CommittedIndex

DEFAULT_RETENTION_DAYS = 7 * 365 + 2  # seven years (SOX record keeping), leap days included
APP_ID_PREFIX = "policy-ray"
COMMIT_RETRIES = 5
CAS_RETRIES = 40  # conditional commits lose only to other writers' commits; each retry recomputes
LAKE_WIDE = "*"  # the batch id of commits that concern the whole lake (table creation, compaction)
GENESIS = "0" * 64
METADATA_KEYS = ("batch_id", "event", "chain_seq", "chain_head", "code_version", "routing_matrix_version",
                 "routing_matrix_sha256", "labels_version", "labels_sha256", "templates_sha256", "templates")

T = TypeVar("T")


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


_DEFAULT_VERSIONS: dict[str, str] | None = None


def default_pipeline_versions() -> dict[str, str]:
    """The versions of the shipped templates, labels and routing matrix: what commits made outside a
    night (reconcile, release, replay status updates, optimize) run with."""
    global _DEFAULT_VERSIONS
    if _DEFAULT_VERSIONS is None:
        from policy_ray.config import Settings, load_pipeline_data

        _DEFAULT_VERSIONS = dict(load_pipeline_data(Settings()).versions)
    return _DEFAULT_VERSIONS


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0.01, min(0.05 * attempt, 1.0)))  # jitter: racing writers spread out


def added_files(log: bytes) -> set[str]:
    """Data files a Delta commit (its log file's bytes) added: the rows that version wrote."""
    paths: set[str] = set()
    for line in log.splitlines():
        if b'"add"' in line:
            action = json.loads(line).get("add")
            if action:
                paths.add(unquote(action["path"]))
    return paths


class Lake:
    def __init__(self, uri: str, *, storage_options: Mapping[str, str] | None = None,
                 retention_days: int = DEFAULT_RETENTION_DAYS, pipeline_versions: Mapping[str, str] | None = None):
        self.uri = uri.rstrip("/")
        self.storage_options = storage.delta_storage_options(self.uri, storage_options)  # + AWS_* env on s3://
        self.retention_days = retention_days
        self._pipeline_versions = dict(pipeline_versions) if pipeline_versions is not None else None

    def table_uri(self, name: str) -> str:
        return f"{self.uri}/{name}"

    # ---- commit metadata --------------------------------------------------------------------------------

    def base_metadata(self) -> dict[str, str]:
        versions = self._pipeline_versions if self._pipeline_versions is not None else default_pipeline_versions()
        return {**versions, "code_version": code_version()}

    def commit_metadata(self, metadata: Mapping[str, Any], *, event: str,
                        chain: tuple[int, str] | None = None) -> dict[str, str]:
        """The caller's metadata over the base; the code version is always this process's own."""
        out = {**self.base_metadata(), **{k: str(v) for k, v in metadata.items()}, "code_version": code_version()}
        out.setdefault("event", event)
        if not out.get("batch_id"):
            raise ValueError(f"commit metadata must name its batch (or {LAKE_WIDE!r} for the whole lake)")
        if chain is not None:
            out["chain_seq"], out["chain_head"] = str(chain[0]), chain[1]
        elif "chain_seq" not in out or "chain_head" not in out:
            seq, head = self.chain_head()
            out["chain_seq"], out["chain_head"] = str(seq), head
        return out

    # ---- tables -------------------------------------------------------------------------------------

    def ensure_tables(self) -> None:
        if "://" not in self.uri:
            import os

            os.makedirs(self.uri, exist_ok=True)
        retention = f"interval {self.retention_days} days"
        # The audit log first: the other tables' creation commits name its (genesis) head.
        for name in sorted(TABLES, key=lambda n: n != "audit_log"):
            schema, partitions = TABLES[name]
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
                    commit_properties=CommitProperties(custom_metadata=self.commit_metadata(
                        {"batch_id": LAKE_WIDE}, event="create_table",
                        chain=(0, GENESIS) if name == "audit_log" else None)),
                )
            except (OSError, DeltaError) as exc:
                raise LakeUnavailable(f"cannot create table {name} under {self.uri}: {exc}") from exc

    def table(self, name: str, version: int | None = None) -> DeltaTable:
        try:
            return DeltaTable(self.table_uri(name), version=version, storage_options=self.storage_options or None)
        except TableNotFoundError as exc:
            raise LakeUnavailable(f"table {name} not found under {self.uri}") from exc

    def dataset(self, name: str, version: int | None = None, *, snapshot: DeltaTable | None = None) -> ds.Dataset:
        """One version of a table (or the given snapshot of it) as a pyarrow dataset.

        Its files are read through pyarrow's own filesystem for the lake (local or S3), not deltalake's
        default Python-backed one: that one holds Python objects inside Arrow's C++ fragments, and when
        Arrow's thread pool drops the last of them while the interpreter exits, the process aborts
        ("terminate called without an active exception", exit 134; deltalake 1.6.6 / pyarrow 21, seen
        here in about one run in five on a loaded machine)."""
        table = snapshot if snapshot is not None else self.table(name, version)
        uri = self.table_uri(name)
        if not (storage.is_local(uri) or storage.is_s3(uri)):
            return table.to_pyarrow_dataset()  # other stores: deltalake's reader, with its credentials
        fs, root = storage.filesystem_for(uri, self.storage_options)
        return table.to_pyarrow_dataset(filesystem=pafs.SubTreeFileSystem(root, fs))

    def read(self, name: str, columns: Sequence[str] | None = None, *, batch_id: str | None = None,
             version: int | None = None, where: ds.Expression | None = None,
             snapshot: DeltaTable | None = None) -> pa.Table:
        """Rows of one table version, optionally of one batch and matching `where`. (Never through
        DeltaTable.to_pyarrow_table(): on a table with a tz-aware timestamp column it aborted the
        interpreter at exit, deltalake 1.6.6.)"""
        flt = ds.field("batch_id") == batch_id if batch_id is not None else None
        if where is not None:
            flt = where if flt is None else flt & where
        return self.dataset(name, version, snapshot=snapshot).to_table(
            columns=list(columns) if columns else None, filter=flt)

    def scan(self, name: str, *, version: int | None = None, batch_id: str | None = None,
             batch_date: date | None = None, paths: set[str] | None = None,
             columns: Sequence[str] | None = None) -> Iterator[tuple[str, pa.Table]]:
        """(data file, its rows) one file at a time: which file (so which commit) holds each row.
        `batch_date` prunes by partition without opening files; `paths` keeps only those files."""
        dataset = self.dataset(name, version)
        part = ds.field("batch_date") == batch_date if batch_date is not None and "batch_date" in TABLES[name][1] \
            else None
        flt = ds.field("batch_id") == batch_id if batch_id is not None else None
        for fragment in dataset.get_fragments(filter=part):
            path = unquote(fragment.path)
            if paths is not None and path not in paths:
                continue
            yield path, fragment.to_table(schema=dataset.schema, columns=list(columns) if columns else None,
                                          filter=flt)

    # ---- writes ---------------------------------------------------------------------------------------

    def append(self, name: str, rows: pa.Table, *, batch_id: str, sequence: int,
               metadata: Mapping[str, Any]) -> CommitResult:
        """Append rows as transaction (policy-ray:<batch>:<table>, sequence), at most once."""
        txn = app_id(batch_id, name)
        schema, _ = TABLES[name]
        data = rows.select(schema.names).cast(schema)
        meta = self.commit_metadata({"batch_id": batch_id, **metadata}, event="append")
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
                        custom_metadata=meta, app_transactions=[Transaction(app_id=txn, version=sequence)]),
                    storage_options=self.storage_options or None,
                )
                # The table object now stands at the version this commit got (after any rebase over
                # other batches' appends); reading the table again could name someone else's commit.
                return CommitResult(name, table.version(), data.num_rows, replayed=False)
            except CommitFailedError:
                # A concurrent writer with the same app id: someone else runs this batch.
                raise
            except (OSError, DeltaError) as exc:
                # Outcome unknown: the loop re-reads the transaction version before writing again.
                if attempt == COMMIT_RETRIES:
                    raise LakeUnavailable(f"commit to {name} failed: {exc}") from exc
                time.sleep(min(2.0**attempt * 0.1, 5.0))
        raise AssertionError("unreachable")

    def append_chained(self, name: str, build: Callable[[DeltaTable], tuple[pa.Table, Mapping[str, Any], T]], *,
                       batch_id: str, sequence: int) -> tuple[CommitResult, T | None]:
        """Append what `build(snapshot)` makes of the table as it is, as transaction (batch, sequence),
        only if nothing else committed since that snapshot; otherwise build again on the new one.
        `build` returns (rows, commit metadata, anything for the caller)."""
        txn = app_id(batch_id, name)
        schema, _ = TABLES[name]
        unknown = 0
        built: T | None = None  # what the last attempt committed, if an unknown outcome was a success
        for attempt in range(1, CAS_RETRIES + 1):
            table = self.table(name)
            committed = table.transaction_version(txn)
            if committed is not None and committed >= sequence:
                return CommitResult(name, None, 0, replayed=True), built
            rows, metadata, extra = build(table)
            built = extra
            data = rows.select(schema.names).cast(schema)
            read_version = table.version()
            try:
                write_deltalake(
                    table, data, mode="append",
                    commit_properties=CommitProperties(
                        custom_metadata=self.commit_metadata({"batch_id": batch_id, **metadata}, event="append"),
                        max_commit_retries=0, app_transactions=[Transaction(app_id=txn, version=sequence)]),
                    storage_options=self.storage_options or None,
                )
                return CommitResult(name, read_version + 1, data.num_rows, replayed=False), extra
            except CommitFailedError:
                _backoff(attempt)  # another writer got there first: rebuild on its commit
            except (OSError, DeltaError) as exc:
                unknown += 1  # outcome unknown: the transaction check above tells on the next turn
                if unknown == COMMIT_RETRIES:
                    raise LakeUnavailable(f"commit to {name} failed: {exc}") from exc
                time.sleep(min(2.0**unknown * 0.1, 5.0))
        raise CommitFailedError(f"{name}: {CAS_RETRIES} conditional commits in a row lost to other writers")

    def swap(self, name: str,
             decide: Callable[[DeltaTable], tuple[Sequence[Mapping[str, Any]], Mapping[str, Any]]], *,
             key: str) -> None:
        """Merge the rows `decide(snapshot)` returns (with the commit metadata it returns) by key, only
        if nothing else committed since that snapshot; otherwise decide again on the new one. `decide`
        may raise to give up (e.g. the batch's lease is taken)."""
        schema, _ = TABLES[name]
        for attempt in range(1, CAS_RETRIES + 1):
            table = self.table(name)
            rows, metadata = decide(table)
            data = pa.Table.from_pylist(list(rows), schema=schema)
            try:
                (
                    table.merge(data, predicate=f"t.{key} = s.{key}", source_alias="s", target_alias="t",
                                commit_properties=CommitProperties(
                                    custom_metadata=self.commit_metadata(metadata, event="swap"),
                                    max_commit_retries=0))
                    .when_matched_update_all()
                    .when_not_matched_insert_all()
                    .execute()
                )
                return
            except CommitFailedError:
                _backoff(attempt)
        raise CommitFailedError(f"{name}: {CAS_RETRIES} conditional commits in a row lost to other writers")

    def upsert(self, name: str, rows: Sequence[Mapping[str, Any]], *, key: str, metadata: Mapping[str, Any],
               app_transaction: tuple[str, int] | None = None) -> None:
        """Merge rows by key. With an app transaction, a concurrent commit of the same one fails
        (CommitFailedError)."""
        schema, _ = TABLES[name]
        data = pa.Table.from_pylist(list(rows), schema=schema)
        txns = [Transaction(app_id=app_transaction[0], version=app_transaction[1])] if app_transaction else None
        (
            self.table(name)
            .merge(data, predicate=f"t.{key} = s.{key}", source_alias="s", target_alias="t",
                   commit_properties=CommitProperties(custom_metadata=self.commit_metadata(metadata, event="upsert"),
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
                   commit_properties=CommitProperties(custom_metadata=self.commit_metadata(metadata, event="update")))
            .when_matched_update(updates={c: f"s.{c}" for c in columns})
            .execute()
        )

    def compact(self, name: str, *, target_size: int) -> dict[str, Any]:
        """Rewrite small files into larger ones (rows unchanged). On the audit log the commit names the
        head of the very snapshot it compacts, so it is conditional like an append."""
        for attempt in range(1, CAS_RETRIES + 1):
            table = self.table(name)
            chained = name == "audit_log"
            meta = self.commit_metadata({"batch_id": LAKE_WIDE}, event="optimize",
                                        chain=self.chain_head(table) if chained else None)
            try:
                return dict(table.optimize.compact(target_size=target_size, commit_properties=CommitProperties(
                    custom_metadata=meta, max_commit_retries=0 if chained else None)))
            except CommitFailedError:
                if not chained:
                    raise
                _backoff(attempt)
        raise CommitFailedError(f"{name}: compaction lost {CAS_RETRIES} times to other writers")

    # ---- Delta log --------------------------------------------------------------------------------------

    def log_file(self, name: str, version: int) -> bytes | None:
        """The Delta log file of `version` (None when it is gone): pins what that commit said."""
        path = f"{self.table_uri(name)}/_delta_log/{version:020d}.json"
        try:
            if "://" not in path:
                with open(path, "rb") as f:
                    return f.read()
            fs, inner = storage.filesystem_for(path, self.storage_options)
            with fs.open_input_stream(inner) as stream:
                return bytes(stream.read())
        except (OSError, FileNotFoundError):
            return None

    def log_sha256(self, name: str, version: int) -> str | None:
        log = self.log_file(name, version)
        return hashlib.sha256(log).hexdigest() if log is not None else None

    def commit_info(self, name: str, version: int) -> dict[str, Any] | None:
        """commitInfo of one version, custom metadata included (read from its log file)."""
        log = self.log_file(name, version)
        for line in (log or b"").splitlines():
            if line.startswith(b'{"commitInfo"'):
                return dict(json.loads(line)["commitInfo"])
        return None

    def version_map(self, name: str) -> dict[tuple[str, str], int]:
        """(batch_id, micro_batch) -> the version that micro-batch wrote, from commit metadata."""
        out: dict[tuple[str, str], int] = {}
        for entry in self.table(name).history():
            if entry.get("batch_id") and entry.get("micro_batch") is not None and int(entry["version"]) >= 0:
                out.setdefault((str(entry["batch_id"]), str(entry["micro_batch"])), int(entry["version"]))
        return out

    def version_of(self, name: str, batch_id: str, micro_batch: int) -> int | None:
        return self.version_map(name).get((batch_id, str(micro_batch)))

    # ---- the audit chain's head -----------------------------------------------------------------------

    def chain_head(self, snapshot: DeltaTable | None = None) -> tuple[int, str]:
        """(seq, entry_hash) of the last audit entry; (0, genesis) for an empty trail. Every audit_log
        commit names the head it leaves (`chain_seq`, `chain_head`): the latest commit says it, without
        reading the entries. A latest commit that does not (not written by policy-ray) is not trusted:
        then the entries themselves are read."""
        try:
            table = snapshot or self.table("audit_log")
        except LakeUnavailable:
            return 0, GENESIS
        info = self.commit_info("audit_log", table.version()) or {}
        if info.get("chain_seq") is not None and info.get("chain_head"):
            return int(info["chain_seq"]), str(info["chain_head"])
        t = self.read("audit_log", ["seq", "entry_hash"], snapshot=table)
        if t.num_rows == 0:
            return 0, GENESIS
        last = pc.max(t.column("seq")).as_py()
        row = t.filter(pc.equal(t.column("seq"), last)).slice(0, 1).to_pylist()[0]
        return int(row["seq"]), str(row["entry_hash"])

    def audit_head(self) -> tuple[int, str]:
        return self.chain_head()

    # ---- what a run needs to know before it starts ---------------------------------------------------

    def keys(self, name: str, column: str, *, batch_id: str | None = None) -> set[str]:
        values = self.read(name, [column], batch_id=batch_id).column(column)
        return {v for v in values.to_pylist() if v is not None}

    def rows_where(self, name: str, column: str, values: Sequence[str], *, batch_id: str) -> list[dict[str, Any]]:
        """Whole rows of this batch whose `column` is one of `values`."""
        if not values:
            return []
        return list(self.read(name, batch_id=batch_id, where=ds.field(column).isin(list(values))).to_pylist())

    def audit_steps(self, batch_id: str) -> list[tuple[str | None, str, str | None]]:
        """(idempotency_key, stage, details) of this batch's audit entries."""
        t = self.read("audit_log", ["idempotency_key", "stage", "details"], batch_id=batch_id)
        return list(zip(*(t.column(c).to_pylist() for c in ("idempotency_key", "stage", "details")), strict=True))

    def audited(self, batch_id: str) -> set[tuple[str, str]]:
        """(idempotency_key, stage) pairs this batch already has in the audit trail."""
        return {(k or "", s) for k, s, _ in self.audit_steps(batch_id)}

    def last_sequence(self, batch_id: str) -> int:
        versions = [self.table(n).transaction_version(app_id(batch_id, n)) for n in TABLES if n != "batches"]
        return max((v for v in versions if v is not None), default=0)

    def committed_documents(self) -> CommittedIndex:
        """doc_sha256 -> idempotency_key of every document committed to `policies`, any night: scanned
        batch by batch into a compact index, never as one table of the lake's whole history."""
        batches = self.dataset("policies").to_batches(columns=["doc_sha256", "idempotency_key"])
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
