"""The public corpus (../shared/corpus/pdfs): every file ends as a row or a categorized dead letter."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from policy_ray.adapters.lake import Lake
from policy_ray.config import Settings
from policy_ray.errors import FailureCategory
from policy_ray.flows.nightly import NightRequest, run_night
from tests.conftest import CORPUS
from tests.flows.helpers import assert_accounted_once, table_rows

pytestmark = [pytest.mark.usefixtures("ray_session"), pytest.mark.corpus]


@pytest.mark.skipif(not CORPUS.exists(), reason="../shared/corpus is not beside this checkout")
def test_public_corpus_runs_through_without_losing_a_document(tmp_path: Path) -> None:
    files = sorted(p for p in CORPUS.iterdir() if p.suffix.lower() == ".pdf")
    settings = Settings(extractors=2, document_deadline_s=45, max_attempts=2, commit_every_docs=30)
    summary = run_night(NightRequest(str(CORPUS), str(tmp_path / "lake"), date(2026, 12, 1), progress=False),
                        settings)
    lake = Lake(str(tmp_path / "lake"))
    dispositions = assert_accounted_once(lake, files)
    assert summary.listed == len(files)
    dead = {Path(r["source_uri"]).name: r for r in table_rows(lake, "dead_letters")}
    assert {r["failure_category"] for r in dead.values()} <= {c.value for c in FailureCategory}
    # Hostile files are categorized precisely, not lumped together as internal errors.
    expect = {
        "bad_header_only_5b.pdf": {"not_a_pdf"},  # five bytes, "oops\n"
        "enc_aes128_r4_user.pdf": {"encrypted"},
        "enc_pdfplumber_pw_test.pdf": {"encrypted"},
        "bad_zero_pages.pdf": {"zero_pages", "malformed_pdf"},
        # OCR reads it, and finds no policy on it.
        "scan_skew.pdf": {"unrecognized_document", "ocr_low_confidence"},
        "tbl_ruled_foo.pdf": {"unrecognized_document"},
    }
    for name, categories in expect.items():
        assert dispositions[name] == "dead_lettered", name
        assert dead[name]["failure_category"] in categories, (name, dead[name]["failure_category"])
    scans = [p.name for p in files if p.name.startswith("scan_")]
    assert all(dead[n]["failure_category"] not in ("no_text_layer", "worker_crash") for n in scans if n in dead)
    assert summary.sent_to_ocr >= len(scans) - 3  # a few scans carry an old OCR text layer
    assert not [n for n, r in dead.items() if r["failure_category"] == "internal_error"], \
        {n: r["error_message"] for n, r in dead.items() if r["failure_category"] == "internal_error"}
