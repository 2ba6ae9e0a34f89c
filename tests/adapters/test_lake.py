"""Delta commits: app transactions are idempotent, metadata is stamped, retention keeps evidence."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake
from deltalake.exceptions import CommitFailedError

from policy_ray import code_version
from policy_ray.adapters.lake import LAKE_WIDE, METADATA_KEYS, Lake, app_id
from policy_ray.adapters.lake_schema import DOCUMENTS


def _ledger_rows(n: int, batch: str = "b1") -> pa.Table:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    return pa.Table.from_pylist(
        [{"batch_id": batch, "batch_date": date(2026, 12, 1), "source_uri": f"/in/{i}.pdf", "doc_sha256": f"{i:064x}",
          "idempotency_key": f"k{i}", "size_bytes": 10, "disposition": "committed", "duplicate_of": None,
          "recorded_at": now} for i in range(n)],
        schema=DOCUMENTS,
    )


@pytest.fixture()
def lake(tmp_path: Path) -> Lake:
    lk = Lake(str(tmp_path / "lake"))
    lk.ensure_tables()
    return lk


def test_tables_keep_seven_years_of_evidence(lake: Lake) -> None:
    config = lake.table("policies").metadata().configuration
    assert config["delta.logRetentionDuration"] == "interval 2557 days"
    assert config["delta.deletedFileRetentionDuration"] == "interval 2557 days"


def test_replayed_transaction_is_skipped(lake: Lake) -> None:
    first = lake.append("documents", _ledger_rows(3), batch_id="b1", sequence=1, metadata={"batch_id": "b1"})
    assert not first.replayed and first.version is not None
    again = lake.append("documents", _ledger_rows(3), batch_id="b1", sequence=1, metadata={"batch_id": "b1"})
    assert again.replayed
    assert lake.read("documents").num_rows == 3
    assert lake.table("documents").transaction_version(app_id("b1", "documents")) == 1
    assert lake.last_sequence("b1") == 1


def test_commits_carry_custom_metadata(lake: Lake) -> None:
    lake.append("documents", _ledger_rows(1), batch_id="b1", sequence=1,
                metadata={"batch_id": "b1", "routing_matrix_sha256": "abc"})
    entry = lake.table("documents").history(1)[0]
    assert entry["batch_id"] == "b1" and entry["routing_matrix_sha256"] == "abc"


def test_every_kind_of_write_carries_the_base_metadata(lake: Lake) -> None:
    """No caller can forget: the adapter adds code and data versions and the chain head to every commit."""
    lake.append("documents", _ledger_rows(2), batch_id="b1", sequence=1, metadata={})
    lake.upsert("documents", _ledger_rows(1).to_pylist(), key="source_uri", metadata={"batch_id": "b1"})
    lake.update_columns("documents", [{"source_uri": "/in/0.pdf", "disposition": "duplicate"}], key="source_uri",
                        columns=("disposition",), metadata={"batch_id": "b1", "event": "test"})
    lake.swap("documents", lambda snapshot: (_ledger_rows(1).to_pylist(), {"batch_id": "b1"}), key="source_uri")
    lake.compact("documents", target_size=1 << 20)
    for name in ("documents", "audit_log", "batches"):
        for version in range(lake.table(name).version() + 1):
            info = lake.commit_info(name, version) or {}
            assert not [k for k in METADATA_KEYS if not info.get(k)], (name, version, info)
            assert info["code_version"] == code_version() and info["code_version"].startswith("0.1.0+")
    assert lake.commit_info("policies", 0)["batch_id"] == LAKE_WIDE  # type: ignore[index]


def test_a_commit_that_names_no_batch_is_refused(lake: Lake) -> None:
    with pytest.raises(ValueError, match="name its batch"):
        lake.upsert("documents", _ledger_rows(1).to_pylist(), key="source_uri", metadata={"event": "x"})


def test_delta_rs_fails_a_commit_without_retries_on_a_moved_table(lake: Lake) -> None:
    """The guarantee conditional commits rest on (deltalake 1.6): with max_commit_retries=0, a commit
    whose snapshot is older than the table fails instead of being rebased; with retries it is rebased."""
    stale = lake.table("documents")
    write_deltalake(lake.table("documents"), _ledger_rows(1), mode="append")
    with pytest.raises(CommitFailedError):
        write_deltalake(stale, _ledger_rows(1), mode="append",
                        commit_properties=CommitProperties(max_commit_retries=0))
    write_deltalake(DeltaTable(lake.table_uri("documents"), version=0), _ledger_rows(1), mode="append")
    assert lake.read("documents").num_rows == 2
    # ... and an app transaction does not make a claim exclusive: a repeated (app id, version) committed
    # by a writer that already sees the first one is accepted (why the batch lease is a conditional commit).
    txn = CommitProperties(app_transactions=[Transaction(app_id="lease", version=1)])
    write_deltalake(lake.table("documents"), _ledger_rows(1), mode="append", commit_properties=txn)
    write_deltalake(lake.table("documents"), _ledger_rows(1), mode="append", commit_properties=txn)
    assert lake.read("documents").num_rows == 4


def test_a_conditional_append_is_rebuilt_on_what_another_writer_committed(lake: Lake) -> None:
    seen: list[int] = []

    def build(snapshot: DeltaTable) -> tuple[pa.Table, dict[str, str], int]:
        rows = lake.read("documents").num_rows
        seen.append(snapshot.version())
        if len(seen) == 1:  # another writer commits between this snapshot and our commit
            lake.append("documents", _ledger_rows(3, "other"), batch_id="other", sequence=1, metadata={})
        return _ledger_rows(1, f"after-{rows}"), {"event": "test"}, rows

    result, built = lake.append_chained("documents", build, batch_id="b1", sequence=1)
    assert len(seen) == 2 and seen[1] == seen[0] + 1  # the first commit failed; the second built on the new one
    assert built == 3 and result.version == seen[1] + 1
    assert lake.keys("documents", "batch_id") == {"other", "after-3"}


def test_concurrent_commits_of_one_sequence_write_once(lake: Lake) -> None:
    errors: list[BaseException] = []

    def commit() -> None:
        try:
            lake.append("documents", _ledger_rows(2, "b2"), batch_id="b2", sequence=1, metadata={})
        except CommitFailedError as exc:  # the loser of the race may be told so; it must not write
            errors.append(exc)

    threads = [threading.Thread(target=commit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert lake.read("documents", batch_id="b2").num_rows == 2


def test_reads_by_batch(lake: Lake) -> None:
    lake.append("documents", _ledger_rows(2, "b1"), batch_id="b1", sequence=1, metadata={})
    lake.append("documents", _ledger_rows(3, "b2"), batch_id="b2", sequence=1, metadata={})
    assert len(lake.ledger("b1")) == 2 and len(lake.ledger("b2")) == 3
    assert lake.keys("documents", "idempotency_key", batch_id="b2") == {"k0", "k1", "k2"}


def test_reads_go_through_a_native_pyarrow_filesystem(lake: Lake) -> None:
    """deltalake's default reader wraps its store in a Python-backed pyarrow filesystem; a dataset
    over it can abort the interpreter at exit (Lake.dataset). Every read here must avoid it."""
    import pyarrow.dataset as ds
    import pyarrow.fs as pafs

    lake.append("documents", _ledger_rows(2, "b1"), batch_id="b1", sequence=1, metadata={})
    dataset = lake.dataset("documents")
    assert isinstance(dataset, ds.FileSystemDataset)
    assert not isinstance(dataset.filesystem, pafs.PyFileSystem)
    assert lake.read("documents", ["idempotency_key"], where=ds.field("idempotency_key") == "k1").num_rows == 1
    # A pinned snapshot reads what it held, through the same filesystem.
    old = lake.table("documents")
    lake.append("documents", _ledger_rows(1, "b2"), batch_id="b2", sequence=1, metadata={})
    assert lake.read("documents", snapshot=old).num_rows == 2 and lake.read("documents").num_rows == 3
