"""The audit trail: a night verifies; every kind of tampering is detected and located."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import zlib
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from deltalake import CommitProperties, DeltaTable, write_deltalake

from policy_ray import code_version
from policy_ray.adapters.lake import METADATA_KEYS, Lake, added_files
from policy_ray.adapters.lake_schema import AUDIT_LOG
from policy_ray.config import Settings
from policy_ray.core.audit_chain import ENTRY_FIELDS, GENESIS, AuditEntry, Draft, PublishedHead, Stage
from policy_ray.flows.audit_append import append_entries
from policy_ray.flows.nightly import NightRequest, run_night
from policy_ray.flows.verify import verify

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.usefixtures("ray_session")


@pytest.fixture(scope="module")
def audited_lake(tmp_path_factory: pytest.TempPathFactory, ray_session: None) -> tuple[Path, Path]:
    from policy_ray.sample import generate_night

    night = tmp_path_factory.mktemp("audit_night")
    generate_night(night, 12, 31, include_hostile=True, scanned_share=0.0)
    lake = tmp_path_factory.mktemp("audit_lake") / "lake"
    settings = Settings(extractors=2, ocr=False, commit_every_docs=4)
    run_night(NightRequest(str(night), str(lake), date(2026, 12, 1), progress=False), settings)
    run_night(NightRequest(str(night), str(lake), date(2026, 12, 2), progress=False), settings)  # chains nights
    return night, lake


@pytest.fixture()
def lake_copy(audited_lake: tuple[Path, Path], tmp_path: Path) -> Path:
    copy = tmp_path / "lake"
    shutil.copytree(audited_lake[1], copy)
    return copy


def _key(lake: Path) -> str:
    return str(Lake(str(lake)).read("policies", ["idempotency_key"]).column(0)[0])


def _first(lake: Path) -> Any:
    report = verify(Lake(str(lake)))
    assert not report.ok
    return report.findings[0]


def test_a_clean_history_verifies_across_nights(audited_lake: tuple[Path, Path]) -> None:
    night, lake = audited_lake
    report = verify(Lake(str(lake)), sources=night)
    assert report.ok, report.render()
    assert report.entries > 40 and report.rows > 0 and report.sources > 0
    stages = set(Lake(str(lake)).read("audit_log", ["stage"]).column(0).to_pylist())
    assert {"batch_started", "received", "extracted", "normalized", "committed", "dead_lettered", "duplicate",
            "recorded", "batch_completed"} <= stages
    # Every row of every document table is pinned by an entry (policies, dead_letters, extractions, ledger).
    assert report.rows == sum(Lake(str(lake)).read(t).num_rows
                              for t in ("policies", "dead_letters", "extractions", "documents"))


def test_edited_row_is_detected(lake_copy: Path) -> None:
    key = _key(lake_copy)
    DeltaTable(str(lake_copy / "policies")).update(predicate=f"idempotency_key = '{key}'",
                                                   updates={"insured_name": "'Someone Else'"})
    finding = _first(lake_copy)
    assert "edited" in finding.what and key[:16] in finding.what and finding.seq is not None


def test_deleted_row_is_detected(lake_copy: Path) -> None:
    key = _key(lake_copy)
    DeltaTable(str(lake_copy / "policies")).delete(predicate=f"idempotency_key = '{key}'")
    finding = _first(lake_copy)
    assert "deleted" in finding.what and key[:16] in finding.what


def test_inserted_row_is_detected(lake_copy: Path) -> None:
    rows = Lake(str(lake_copy)).read("policies").slice(0, 1)
    forged = rows.set_column(rows.schema.get_field_index("idempotency_key"), "idempotency_key",
                             pa.array(["f" * 64]))
    write_deltalake(str(lake_copy / "policies"), forged, mode="append")
    finding = _first(lake_copy)
    assert "not in the audit trail" in finding.what and "ffffffffffffffff" in finding.what


def _rewrite_audit(lake: Path, change: Any) -> None:
    table = Lake(str(lake)).read("audit_log")
    table = table.take(pc.sort_indices(table, sort_keys=[("seq", "ascending")]))
    rows = change(table.to_pylist())
    write_deltalake(str(lake / "audit_log"), pa.Table.from_pylist(rows, schema=AUDIT_LOG), mode="overwrite")


def test_removed_chain_entry_is_detected(lake_copy: Path) -> None:
    _rewrite_audit(lake_copy, lambda rows: rows[:5] + rows[6:])
    finding = _first(lake_copy)
    assert finding.seq == 6 and "missing" in finding.what


def test_reordered_chain_entries_are_detected(lake_copy: Path) -> None:
    def swap(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows[7]["seq"], rows[8]["seq"] = rows[8]["seq"], rows[7]["seq"]
        return rows

    _rewrite_audit(lake_copy, swap)
    finding = _first(lake_copy)
    assert finding.seq == 8 and "chain broken" in finding.what


def test_edited_chain_entry_is_detected(lake_copy: Path) -> None:
    def edit(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows[10]["payload_sha256"] = "0" * 64
        return rows

    _rewrite_audit(lake_copy, edit)
    finding = _first(lake_copy)
    assert finding.seq == 11 and "edited" in finding.what


def test_rewritten_delta_log_file_is_detected(lake_copy: Path) -> None:
    log = lake_copy / "policies" / "_delta_log" / f"{1:020d}.json"
    log.write_text(log.read_text().replace('"WRITE"', '"WRITE "', 1))
    finding = _first(lake_copy)
    assert "policies version 1 was rewritten" in finding.what


def test_removed_delta_log_file_is_detected(lake_copy: Path) -> None:
    (lake_copy / "dead_letters" / "_delta_log" / f"{1:020d}.json").unlink()
    finding = _first(lake_copy)
    assert "dead_letters version 1 is missing" in finding.what


def test_changed_source_file_is_detected(audited_lake: tuple[Path, Path], lake_copy: Path, tmp_path: Path) -> None:
    night = tmp_path / "night"
    shutil.copytree(audited_lake[0], night)
    victim = sorted(night.glob("*_dec_*.pdf"))[0]
    victim.write_bytes(victim.read_bytes() + b"%tampered\n")
    report = verify(Lake(str(lake_copy)), sources=night)
    assert not report.ok and victim.name in report.findings[0].what


def test_compaction_keeps_verification_passing(lake_copy: Path) -> None:
    from policy_ray.flows.maintenance import optimize

    report = optimize(Lake(str(lake_copy)))
    assert report["policies"]["files_after"] <= report["policies"]["files_before"]
    assert verify(Lake(str(lake_copy))).ok


def test_tables_keep_evidence_for_seven_years(lake_copy: Path) -> None:
    for name in ("policies", "dead_letters", "documents", "extractions", "audit_log", "batches"):
        config = DeltaTable(str(lake_copy / name)).metadata().configuration
        assert config["delta.logRetentionDuration"] == config["delta.deletedFileRetentionDuration"] \
            == "interval 2557 days"


# ---- more tampering: every column and table the job writes for a document ---------------------------


def _first_key(lake: Path, table: str) -> str:
    return str(Lake(str(lake)).read(table, ["idempotency_key"]).column(0)[0])


@pytest.mark.parametrize(("column", "value"), [("source_uri", "'/elsewhere/forged.pdf'"),
                                               ("doc_sha256", "'" + "a" * 64 + "'"),
                                               ("raw_sha256", "'" + "b" * 64 + "'"),
                                               ("confidence", "0.5")])
def test_an_edit_to_any_policies_column_is_detected(lake_copy: Path, column: str, value: str) -> None:
    key = _first_key(lake_copy, "policies")
    DeltaTable(str(lake_copy / "policies")).update(predicate=f"idempotency_key = '{key}'", updates={column: value})
    finding = _first(lake_copy)
    assert "policies row" in finding.what and "edited" in finding.what and key[:16] in finding.what
    assert finding.seq is not None


def test_an_edited_dead_letter_is_detected(lake_copy: Path) -> None:
    key = _first_key(lake_copy, "dead_letters")
    DeltaTable(str(lake_copy / "dead_letters")).update(predicate=f"idempotency_key = '{key}'",
                                                       updates={"error_message": "'nothing to see here'"})
    finding = _first(lake_copy)
    assert "dead_letters row" in finding.what and "edited" in finding.what and key[:16] in finding.what


def test_a_deleted_extraction_is_detected(lake_copy: Path) -> None:
    key = _first_key(lake_copy, "extractions")
    DeltaTable(str(lake_copy / "extractions")).delete(predicate=f"idempotency_key = '{key}'")
    finding = _first(lake_copy)
    assert "extractions row" in finding.what and "deleted" in finding.what and key[:16] in finding.what


def test_a_swapped_extraction_payload_is_detected(lake_copy: Path) -> None:
    key = _first_key(lake_copy, "extractions")
    forged = zlib.compress(json.dumps({"words": ["forged"]}).encode())
    DeltaTable(str(lake_copy / "extractions")).update(predicate=f"idempotency_key = '{key}'",
                                                      updates={"payload_zlib": f"X'{forged.hex()}'"})
    finding = _first(lake_copy)
    assert "extractions row" in finding.what and "raw payload" in finding.what


def test_an_edited_ledger_row_is_detected(lake_copy: Path) -> None:
    uri = str(Lake(str(lake_copy)).read("documents", ["source_uri"]).column(0)[0])
    DeltaTable(str(lake_copy / "documents")).update(predicate=f"source_uri = '{uri}'",
                                                    updates={"size_bytes": "size_bytes + 1"})
    finding = _first(lake_copy)
    assert "documents row" in finding.what and "edited" in finding.what and uri in finding.what


def test_an_edited_batch_row_is_detected(lake_copy: Path) -> None:
    DeltaTable(str(lake_copy / "batches")).update(updates={"accepted": "accepted + 1"})
    finding = _first(lake_copy)
    assert "batches row" in finding.what and "accepted" in finding.what


def test_entries_cut_off_the_end_are_detected(lake_copy: Path) -> None:
    head = Lake(str(lake_copy)).chain_head()[0]
    DeltaTable(str(lake_copy / "audit_log")).delete(predicate=f"seq > {head - 3}")
    finding = _first(lake_copy)
    assert finding.seq == head - 2 and "truncated" in finding.what


def test_a_truncation_that_forges_the_commit_head_is_caught_by_the_batch_rows(lake_copy: Path) -> None:
    lake = Lake(str(lake_copy))
    head = lake.chain_head()[0]
    kept = lake.read("audit_log", ["seq", "entry_hash"]).filter(pc.equal(pc.field("seq"), head - 3)).to_pylist()[0]
    forged = {"chain_seq": str(head - 3), "chain_head": kept["entry_hash"]}  # the head the cut chain ends in
    DeltaTable(str(lake_copy / "audit_log")).delete(predicate=f"seq > {head - 3}",
                                                    commit_properties=CommitProperties(custom_metadata=forged))
    finding = _first(lake_copy)
    assert "truncated" in finding.what and "completed at entry" in finding.what


def test_a_history_rewritten_whole_is_caught_by_a_published_head(lake_copy: Path) -> None:
    """The attack the lake cannot catch by itself: an entry edited and every entry re-sealed after it,
    the audit_log commit's head and the batch rows forged to match. A head published outside the lake
    (from an earlier passing verify) catches it."""
    lake = Lake(str(lake_copy))
    before = verify(lake)
    assert before.ok
    published = PublishedHead(before.head_seq, before.head)
    assert f"head to publish outside the lake: {published}" in before.render()

    table = lake.read("audit_log")
    rows = table.take(pc.sort_indices(table, sort_keys=[("seq", "ascending")])).to_pylist()
    rows[0]["details"] = json.dumps({**json.loads(rows[0]["details"]), "input_uri": "/elsewhere"}, sort_keys=True)
    prev = GENESIS
    for row in rows:
        row["prev_hash"] = prev
        row["entry_hash"] = prev = AuditEntry(**{k: row[k] for k in ENTRY_FIELDS}).computed_hash()
    forged = {"batch_id": "forger", "chain_seq": str(rows[-1]["seq"]), "chain_head": prev}
    write_deltalake(str(lake_copy / "audit_log"), pa.Table.from_pylist(rows, schema=AUDIT_LOG), mode="overwrite",
                    commit_properties=CommitProperties(custom_metadata=forged))
    hashes = {row["seq"]: row["entry_hash"] for row in rows}
    for batch in lake.read("batches", ["batch_id", "chain_seq"]).to_pylist():
        if batch["chain_seq"] is not None:
            DeltaTable(str(lake_copy / "batches")).update(predicate=f"batch_id = '{batch['batch_id']}'",
                                                          updates={"chain_head": f"'{hashes[batch['chain_seq']]}'"})

    alone = verify(lake)
    assert alone.ok, alone.render()  # self-consistent: the trust boundary runbooks/audit.md states
    report = verify(lake, published=[published])
    assert not report.ok and report.findings[0].seq == published.seq
    assert "rewritten" in report.findings[0].what


def test_a_published_head_past_the_end_of_the_chain_is_a_finding(lake_copy: Path) -> None:
    lake = Lake(str(lake_copy))
    head = verify(lake)
    report = verify(lake, published=[PublishedHead(head.head_seq + 5, "a" * 64)])
    assert not report.ok and "entries removed" in report.findings[0].what
    assert verify(lake, published=[PublishedHead(head.head_seq, head.head)]).ok


def test_a_rewritten_old_data_file_is_caught_by_time_travel(lake_copy: Path) -> None:
    """After compaction the current rows come from new files; the files version 1 added are only
    reachable by time travel, and an edit to them must still show."""
    from policy_ray.flows.maintenance import optimize

    lake = Lake(str(lake_copy))
    optimize(lake)
    original = next(iter(added_files(lake.log_file("policies", 1) or b"")))
    path = lake_copy / "policies" / original
    rows = pq.read_table(path)
    names = rows.column("insured_name").to_pylist()
    rows = rows.set_column(rows.schema.get_field_index("insured_name"), "insured_name",
                           pa.array(["Someone Else", *names[1:]]))
    pq.write_table(rows, path)
    finding = _first(lake_copy)
    # Read as version 1 (only the files it added): a different row, or a file that no longer is the one
    # the log describes (its size changed), either way named by the entry that points there.
    assert "policies version 1 " in finding.what and finding.seq is not None


def test_a_missing_source_file_is_a_finding(audited_lake: tuple[Path, Path], lake_copy: Path,
                                            tmp_path: Path) -> None:
    night = tmp_path / "moved" / "night"  # the night's folder moved: files are matched by relative path
    shutil.copytree(audited_lake[0], night)
    assert verify(Lake(str(lake_copy)), sources=night).ok
    victim = sorted(night.glob("*_dec_*.pdf"))[0]
    victim.unlink()
    report = verify(Lake(str(lake_copy)), sources=night)
    assert not report.ok and f"{victim.name} is missing" in report.findings[0].what


def test_every_commit_carries_its_metadata(lake_copy: Path) -> None:
    """Nights, reconciliation-style batch updates, replay status updates, audit appends from outside a
    night, and compaction: every commit of every table names its batch, the chain head, the code
    version and the pipeline data versions."""
    from policy_ray.flows.maintenance import optimize

    lake = Lake(str(lake_copy))
    batch_id = str(lake.read("batches", ["batch_id"]).column(0)[0])
    row = lake.batch_row(batch_id)
    assert row is not None
    lake.upsert("batches", [{**row, "status_reason": "reviewed"}], key="batch_id",
                metadata={"batch_id": batch_id, "event": "released"})
    key = _first_key(lake_copy, "dead_letters")
    lake.update_columns("dead_letters", [{"idempotency_key": key, "status": "requeued"}], key="idempotency_key",
                        columns=("status",), metadata={"batch_id": batch_id, "event": "replay_requeued"})
    append_entries(lake, batch_id, [Draft(batch_id, Stage.BATCH_RELEASED, details='{"reason":"test"}')])
    optimize(lake)
    for name in ("policies", "dead_letters", "documents", "extractions", "batches", "audit_log"):
        for version in range(lake.table(name).version() + 1):
            info = lake.commit_info(name, version) or {}
            missing = [k for k in METADATA_KEYS if not info.get(k)]
            assert not missing, f"{name} v{version} ({info.get('operation')}) lacks {missing}"
            assert info["code_version"] == code_version()
    assert verify(lake).ok, verify(lake).render()


_APPENDER = """
import sys, time
from policy_ray.adapters.lake import Lake
from policy_ray.core.audit_chain import Draft, Stage
from policy_ray.flows.audit_append import append_entries
lake, batch, start, rounds = Lake(sys.argv[1]), sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
time.sleep(max(0.0, start - time.time()))
for i in range(rounds):
    append_entries(lake, batch, [Draft(batch, Stage.BATCH_QUARANTINED, details='{"round":%d}' % i),
                                 Draft(batch, Stage.BATCH_RELEASED, details='{"round":%d}' % i)])
"""


def test_two_processes_appending_at_once_keep_one_chain(lake_copy: Path, tmp_path: Path) -> None:
    lake = Lake(str(lake_copy))
    before = lake.chain_head()[0]
    script = tmp_path / "append.py"
    script.write_text(_APPENDER)
    start, rounds = time.time() + 4.0, 6  # both start appending at the same moment, after their imports
    procs = [subprocess.Popen([sys.executable, str(script), str(lake_copy), f"writer-{i}", str(start), str(rounds)],
                              cwd=REPO, stderr=subprocess.PIPE) for i in range(2)]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()[-2000:] if p.stderr else ""
    seqs = sorted(lake.read("audit_log", ["seq"]).column(0).to_pylist())
    assert seqs == list(range(1, before + 2 * 2 * rounds + 1)), "the chain forked or lost entries"
    report = verify(lake)
    assert report.ok, report.render()


def test_verify_of_one_batch_reads_that_night_only(lake_copy: Path) -> None:
    lake = Lake(str(lake_copy))
    batches = sorted(lake.read("batches", ["batch_id"]).column(0).to_pylist())
    assert len(batches) == 2
    whole = verify(lake)
    first = verify(lake, batch_id=batches[0])
    assert first.ok, first.render()
    assert first.entries == whole.entries  # the chain is always checked whole
    assert 0 < first.rows < whole.rows and 0 < first.versions < whole.versions
    # The second night holds the same files: all duplicates, ledger rows only. Edit one of them.
    uri = str(lake.read("documents", ["source_uri"], batch_id=batches[1]).column(0)[0])
    DeltaTable(str(lake_copy / "documents")).update(predicate=f"batch_id = '{batches[1]}' AND source_uri = '{uri}'",
                                                    updates={"disposition": "'committed'"})
    assert verify(lake, batch_id=batches[0]).ok  # another night's row: not in this batch's scope
    report = verify(lake, batch_id=batches[1])
    assert not report.ok and uri in report.findings[0].what
