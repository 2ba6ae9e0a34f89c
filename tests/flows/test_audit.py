"""The audit trail: a night verifies; every kind of tampering is detected and located."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from deltalake import DeltaTable, write_deltalake

from policy_ray.adapters.lake import Lake
from policy_ray.adapters.lake_schema import AUDIT_LOG
from policy_ray.config import Settings
from policy_ray.flows.nightly import NightRequest, run_night
from policy_ray.flows.verify import verify

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
            "batch_completed"} <= stages


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
