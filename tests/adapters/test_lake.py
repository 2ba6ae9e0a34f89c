"""Delta commits: app transactions are idempotent, metadata is stamped, retention keeps evidence."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake.exceptions import CommitFailedError

from policy_ray.adapters.lake import Lake, app_id
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
