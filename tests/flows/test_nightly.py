"""The nightly job end to end on a local Ray instance, real PDFs and real Delta tables."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from policy_ray.adapters.lake import Lake
from policy_ray.cli import main
from policy_ray.config import Settings
from policy_ray.core.templates import GENERIC_TEMPLATE_ID
from policy_ray.flows.nightly import NightRequest, run_night
from tests.flows.helpers import assert_accounted_once, field_accuracy, table_rows

pytestmark = pytest.mark.usefixtures("ray_session")
NIGHT = date(2026, 12, 1)
EXPECTED_TEMPLATE = {"northgate": "northgate_dec", "harborline": "harborline_dec", "cedar": "cedar_bop_dec",
                     "bluewater": GENERIC_TEMPLATE_ID, "acord25_fields": "acord25_form",
                     "acord25_flat": "acord25_printed", "acord25_drawn": "acord25_printed"}


def _settings(**changes: Any) -> Settings:
    # The text path alone (issue 2's criteria); the OCR route has its own tests.
    return Settings(extractors=2, ocr=False, document_deadline_s=60, commit_every_docs=40).replace(**changes)


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".pdf")


@pytest.fixture(scope="module")
def sample_run(sample_night: tuple[Path, list[dict[str, Any]]], tmp_path_factory: pytest.TempPathFactory,
               ray_session: None) -> dict[str, Any]:
    folder, truth = sample_night
    lake_dir = tmp_path_factory.mktemp("lake")
    request = NightRequest(str(folder), str(lake_dir), NIGHT, progress=False)
    summary = run_night(request, _settings())
    return {"folder": folder, "truth": truth, "lake": Lake(str(lake_dir)), "summary": summary, "request": request}


def test_sample_night_accounts_for_every_document(sample_run: dict[str, Any]) -> None:
    lake, truth = sample_run["lake"], sample_run["truth"]
    dispositions = assert_accounted_once(lake, _files(sample_run["folder"]))
    expected = {"accept": "committed", "dead_letter": "dead_lettered", "duplicate": "duplicate"}
    first_with_bytes: dict[str, str] = {}
    for t in sorted(truth, key=lambda t: t["file"]):
        first_with_bytes.setdefault(t["sha256"], t["file"])
    hostile = {t["file"]: t for t in truth if t["kind"] == "hostile"}
    for name, t in hostile.items():
        # Byte-identical files (two zero-byte files, say) are one document: the later ones are duplicates.
        repeated = first_with_bytes[t["sha256"]] != name
        assert dispositions[name] == ("duplicate" if repeated else expected[t["expected"]]), name
        if repeated:
            hostile[name] = {**t, "expected": "duplicate"}
    dead = {Path(r["source_uri"]).name: r for r in table_rows(lake, "dead_letters")}
    for name, t in hostile.items():
        if t["expected"] == "dead_letter":
            assert dead[name]["failure_category"] == t["expected_failure_category"], name
            assert dead[name]["stack_trace"] and dead[name]["doc_sha256"] == t["sha256"]
    for t in truth:
        if t.get("scanned"):
            assert dispositions[t["file"]] == "dead_lettered"
            assert dead[t["file"]]["failure_category"] == "no_text_layer" and dead[t["file"]]["retryable"]
    # The summary's documents by route are the tables' own counts.
    counts = Counter(dispositions.values())
    assert sample_run["summary"].routes == {"accepted_text": counts["committed"],
                                            "dead_letter": counts["dead_lettered"], "duplicate": counts["duplicate"]}


def test_sample_night_accepts_digital_documents_with_correct_fields(sample_run: dict[str, Any]) -> None:
    lake, truth = sample_run["lake"], sample_run["truth"]
    by_name = {t["file"]: t for t in truth}
    digital = [t for t in truth if t["kind"] in ("declarations", "certificate") and not t.get("scanned")]
    rows = table_rows(lake, "policies")
    accepted = {Path(r["source_uri"]).name for r in rows}
    straight_through = sum(t["file"] in accepted for t in digital) / len(digital)
    correct, total, wrong = field_accuracy(rows, by_name)
    assert correct / total >= 0.99, wrong[:20]
    assert straight_through >= 0.90, sorted(t["file"] for t in digital if t["file"] not in accepted)
    # Each carrier's declarations are recognized by its own template; a layout no template knows is generic.
    recognized = {(by_name[Path(r["source_uri"]).name]["layout"], r["template_id"]) for r in rows}
    assert recognized <= set(EXPECTED_TEMPLATE.items()), recognized - set(EXPECTED_TEMPLATE.items())
    assert all(r["template_version"] for r in rows if r["template_id"] != GENERIC_TEMPLATE_ID)


def test_the_tables_answer_sql_from_the_command_line(sample_run: dict[str, Any],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    lake: Lake = sample_run["lake"]
    assert main(["sql", "--lake", lake.uri, "SELECT count(*) AS accepted FROM policies"]) == 0
    printed = capsys.readouterr().out
    assert "accepted" in printed and str(sample_run["summary"].accepted) in printed


def test_rerunning_the_night_adds_nothing(sample_run: dict[str, Any]) -> None:
    lake: Lake = sample_run["lake"]
    folder: Path = sample_run["folder"]
    versions = {name: lake.table(name).version() for name in ("policies", "dead_letters", "documents", "extractions")}
    # The same folder spelled another way is the same night (the batch id comes from where, not how).
    respelled = dataclasses.replace(sample_run["request"], input_uri=f"{folder}/../{folder.name}/./")
    summary = run_night(respelled, _settings())
    assert summary.batch_id == sample_run["summary"].batch_id
    assert summary.processed == 0 and summary.already_done == summary.listed
    assert summary.routes == sample_run["summary"].routes  # the whole night, not this run's nothing
    assert {name: lake.table(name).version() for name in versions} == versions
    assert lake.batch_row(summary.batch_id)["run_count"] == 2  # type: ignore[index]


def test_a_later_night_records_byte_identical_documents_as_duplicates(sample_run: dict[str, Any],
                                                                      tmp_path: Path) -> None:
    lake: Lake = sample_run["lake"]
    source = sample_run["folder"]
    accepted = sorted(Path(r["source_uri"]).name for r in table_rows(lake, "policies", ["source_uri"]))[:3]
    later = tmp_path / "later"
    later.mkdir()
    for name in accepted:
        (later / f"again_{name}").write_bytes((source / name).read_bytes())
    before = lake.table("policies").version()
    summary = run_night(NightRequest(str(later), lake.uri, date(2026, 12, 2), progress=False), _settings())
    assert summary.duplicates == 3 and summary.accepted == 0
    assert lake.table("policies").version() == before
