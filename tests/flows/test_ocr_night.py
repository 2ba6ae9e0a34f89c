"""The OCR route on a local Ray instance with real Tesseract: scans and image files are read and
committed, a failing OCR engine opens the circuit breaker, a hanging OCR hits its deadline."""

from __future__ import annotations

import tomllib
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from policy_ray.adapters.lake import Lake
from policy_ray.config import DEFAULTS_DIR, Settings
from policy_ray.flows.nightly import NightRequest, run_night
from policy_ray.sample import generate_night
from tests.conftest import read_truth
from tests.flows.helpers import assert_accounted_once, field_accuracy, table_rows

pytestmark = pytest.mark.usefixtures("ray_session")
NIGHT = date(2026, 12, 1)


@pytest.fixture(scope="module")
def scanned_night(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    out = tmp_path_factory.mktemp("scans")
    truth = generate_night(out, 16, 21, include_images=True, include_hostile=False, scanned_share=0.5)
    return out, read_truth(truth)


def _documents(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name != "ground_truth.jsonl")


def _settings(**changes: Any) -> Settings:
    return Settings(extractors=1, ocr_workers=2, ocr_engine="tesseract", document_deadline_s=60,
                    commit_every_docs=20, ocr_breaker_name=f"breaker-{uuid.uuid4().hex[:8]}").replace(**changes)


def test_scans_and_image_files_are_read_by_ocr_and_committed(scanned_night: tuple[Path, list[dict[str, Any]]],
                                                             tmp_path: Path) -> None:
    folder, truth = scanned_night
    # OCR actors are recycled like extractors: after 2 documents each here.
    summary = run_night(NightRequest(str(folder), str(tmp_path / "lake"), NIGHT, progress=False),
                        _settings(ocr_max_calls=2))
    lake = Lake(str(tmp_path / "lake"))
    assert_accounted_once(lake, _documents(folder))
    scanned = [t for t in truth if t["scanned"] or t["kind"] == "image"]
    assert summary.ocr_pool["recycled"].get("max_calls", 0) >= len(scanned) // 2 - 2
    assert summary.ocr_pool["distinct_pids"] > 2
    assert len(scanned) >= 5 and any(t["file"].endswith((".tif", ".tiff")) for t in scanned)
    rows = table_rows(lake, "policies")
    ocr_rows = [r for r in rows if r["extraction_path"] == "ocr"]
    assert summary.sent_to_ocr == len(scanned)
    by_name = {t["file"]: t for t in truth}
    correct, total, wrong = field_accuracy(ocr_rows, by_name)
    assert correct / total >= 0.97, wrong
    # A misread policy number is the costliest error: the number checks (shape, template pattern, agreement
    # across pages) must keep every one of them out of straight-through.
    expected = {r["source_uri"]: by_name[Path(r["source_uri"]).name]["record"]["policy_number"] for r in ocr_rows}
    misread = [(r["policy_number"], expected[r["source_uri"]]) for r in ocr_rows
               if r["policy_number"] != expected[r["source_uri"]]]
    assert not misread, misread
    assert len(ocr_rows) / len(scanned) >= 0.8, sorted(
        {t["file"] for t in scanned} - {Path(r["source_uri"]).name for r in ocr_rows})
    tiff = next(r for r in ocr_rows if r["source_uri"].endswith((".tif", ".tiff")))
    with Image.open(tiff["source_uri"]) as image:
        assert tiff["page_count"] == getattr(image, "n_frames", 1)  # the file's pages, not the pages OCR needed to read


def test_failing_ocr_opens_the_breaker_and_the_night_completes(scanned_night: tuple[Path, list[dict[str, Any]]],
                                                              tmp_path: Path) -> None:
    folder, truth = scanned_night
    routing = tomllib.loads((DEFAULTS_DIR / "routing.toml").read_text())
    config = (DEFAULTS_DIR / "routing.toml").read_text().replace(
        f"min_samples = {routing['ocr_breaker']['min_samples']}", "min_samples = 2")
    routing_path = tmp_path / "routing.toml"
    routing_path.write_text(config)
    scanned = [t["file"] for t in truth if t["scanned"] or t["kind"] == "image"]
    settings = _settings(routing_path=routing_path, test_faults=dict.fromkeys(scanned, "ocr:raise"))
    summary = run_night(NightRequest(str(folder), str(tmp_path / "lake"), NIGHT, progress=False), settings)
    lake = Lake(str(tmp_path / "lake"))
    dispositions = assert_accounted_once(lake, _documents(folder))
    dead = {Path(r["source_uri"]).name: r for r in table_rows(lake, "dead_letters")}
    categories = [dead[name]["failure_category"] for name in scanned]
    assert categories.count("internal_error") >= 2
    assert "ocr_circuit_open" in categories
    assert all(dead[n]["retryable"] for n in scanned if dead[n]["failure_category"] == "ocr_circuit_open")
    assert summary.ocr["breaker"]["state"] == "open" and summary.ocr["turned_away"] >= 1
    digital = [t["file"] for t in truth if t["expected"] == "accept"]
    assert all(dispositions[name] == "committed" for name in digital)


def test_a_hanging_ocr_hits_its_deadline(scanned_night: tuple[Path, list[dict[str, Any]]], tmp_path: Path) -> None:
    folder, truth = scanned_night
    victim = next(t["file"] for t in truth if t["scanned"])
    settings = _settings(ocr_document_deadline_s=4, max_attempts=1, test_faults={victim: "ocr:hang"})
    run_night(NightRequest(str(folder), str(tmp_path / "lake"), NIGHT, progress=False), settings)
    lake = Lake(str(tmp_path / "lake"))
    assert_accounted_once(lake, _documents(folder))
    dead = {Path(r["source_uri"]).name: r for r in table_rows(lake, "dead_letters")}
    assert dead[victim]["failure_category"] == "ocr_timeout"
