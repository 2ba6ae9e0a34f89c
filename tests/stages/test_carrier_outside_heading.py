"""The carrier named outside the page heading, through the real extractor and mapping: a running header
on wording pages triage skips corroborates a heading-only carrier (the skipped pages' headers and footers
travel in the raw payload), and a carrier named only in a footer or an "underwritten by" statement is
read, trusted only when the document says it again. Triage on and off give the same record. All names
are invented."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from pathlib import Path

from reportlab.lib.pagesizes import letter
from reportlab.pdfgen.canvas import Canvas

from policy_ray.config import Settings, load_pipeline_data
from policy_ray.core.identity import idempotency_key, sha256_hex
from policy_ray.core.margins import MAX_BAND_RUNS, MAX_MARGIN_PAGES
from policy_ray.core.outcomes import DocumentResult, DocumentTask
from policy_ray.stages.extract import ExtractStage

DATA = load_pipeline_data(Settings())
FAST = ExtractStage(Settings(triage=True), DATA)
FULL = ExtractStage(Settings(triage=False), DATA)
LAKESHORE = "Lakeshore Mutual Insurance Company"
PROSE = ("We will pay for direct physical loss of or damage to covered property caused by or resulting from "
         "any covered cause of loss. The most we will pay for loss in any one occurrence is the applicable "
         "limit shown in the schedule. We will not pay for loss caused directly or indirectly by war, "
         "nuclear hazard or governmental action, regardless of any other cause that contributes to the loss.")
Draw = Callable[[Canvas], None]


def _pdf(first: Draw, *, wording_pages: int = 0, running_header: str | None = None,
         running_footer: str | None = None) -> bytes:
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=letter, invariant=1)
    first(c)
    c.showPage()
    for page in range(wording_pages):
        c.setFont("Helvetica-Bold", 7.5)
        if running_header:
            c.drawString(48, 760, running_header)
        c.drawRightString(564, 760, "POLICY WORDING")
        c.setFont("Helvetica", 8)
        y = 730.0
        while y > 90:
            for start in range(0, len(PROSE), 95):
                c.drawString(48, y, PROSE[start:start + 95].strip())
                y -= 10
        if running_footer:
            c.setFont("Helvetica", 7.5)
            c.drawString(48, 30, running_footer)
        c.drawRightString(564, 30, f"Page {page + 2}")
        c.showPage()
    c.save()
    return buf.getvalue()


def _fields(c: Canvas, y: float = 690) -> None:
    c.setFont("Helvetica", 9)
    for i, text in enumerate(("Named Insured: Buckeye Tool & Die Co.", "Policy Number: LMI-BP-7781234",
                              "Effective Date: April 1, 2026", "Expiration Date: April 1, 2027")):
        c.drawString(48, y - 14 * i, text)


def _heading(c: Canvas) -> None:
    c.setFont("Helvetica-Bold", 16)
    c.drawString(48, 750, LAKESHORE)
    _fields(c)


def _title_and_footer(footer: str, *, statement: str | None = None) -> Draw:
    def draw(c: Canvas) -> None:
        c.setFont("Helvetica-Bold", 16)
        c.drawString(48, 750, "POLICY DECLARATIONS")
        _fields(c)
        if statement:
            c.setFont("Helvetica", 8)
            c.drawString(48, 600, statement)
        c.setFont("Helvetica", 8)
        c.drawString(48, 60, footer)
    return draw


def _both(data: bytes, tmp_path: Path) -> DocumentResult:
    """The document through the stage with triage on and off: the same status and record either way."""
    path = tmp_path / f"{sha256_hex(data)[:12]}.pdf"
    path.write_bytes(data)
    sha = sha256_hex(data)
    task = DocumentTask(str(path), sha, len(data), "b", date(2026, 12, 1), idempotency_key(sha, "b"))
    fast, full = FAST.process(task), FULL.process(task)
    assert (fast.status, fast.normalized_sha256) == (full.status, full.normalized_sha256)
    return fast


def _carrier(result: DocumentResult) -> tuple[str | None, float]:
    """The carrier read (committed, or kept with a dead letter's partial fields) and its confidence."""
    if result.record is not None:
        return result.record.carrier_name, result.field_confidence["carrier_name"]
    partial = result.partial_fields or {}
    return partial["record"]["carrier_name"], partial["field_confidence"].get("carrier_name", 0.0)


ACCEPT = DATA.matrix.thresholds.accept


def test_a_running_header_on_skipped_wording_pages_corroborates_the_heading(tmp_path: Path) -> None:
    data = _pdf(_heading, wording_pages=4, running_header=LAKESHORE)
    raw = FAST.extract(data, sha256_hex(data))
    assert raw.skipped_pages and [m.number for m in raw.margins] == list(raw.skipped_pages)
    result = _both(data, tmp_path)
    assert result.status == "accepted" and _carrier(result) == (LAKESHORE, 0.87)


def test_without_the_running_header_the_heading_alone_is_not_trusted(tmp_path: Path) -> None:
    result = _both(_pdf(_heading, wording_pages=4), tmp_path)
    name, confidence = _carrier(result)
    assert result.status == "dead_letter" and name == LAKESHORE and confidence < ACCEPT


def test_margins_are_bounded(tmp_path: Path) -> None:
    data = _pdf(_heading, wording_pages=MAX_MARGIN_PAGES + 5, running_header=LAKESHORE,
                running_footer=f"{LAKESHORE} - Home Office")
    raw = FAST.extract(data, sha256_hex(data))
    assert len(raw.margins) == MAX_MARGIN_PAGES
    for page in raw.margins:
        assert 0 < len(page.words) <= 2 * MAX_BAND_RUNS
        assert all(w.top < 60 or w.bottom > 792 - 80 for w in page.words)  # nothing from the body


def test_a_carrier_named_only_in_a_footer_is_read_but_not_trusted_alone(tmp_path: Path) -> None:
    result = _both(_pdf(_title_and_footer(f"{LAKESHORE} - Home Office, Madison WI")), tmp_path)
    name, confidence = _carrier(result)
    assert result.status == "dead_letter" and name == LAKESHORE and confidence < ACCEPT


def test_a_footer_repeated_on_the_wording_pages_names_the_carrier(tmp_path: Path) -> None:
    footer = f"{LAKESHORE} - Home Office, Madison WI"
    result = _both(_pdf(_title_and_footer(footer), wording_pages=3, running_footer=footer), tmp_path)
    assert result.status == "accepted" and _carrier(result) == (LAKESHORE, 0.87)
    assert result.record is not None and result.record.policy_number == "LMI-BP-7781234"


def test_an_underwritten_by_statement_and_a_footer_say_it_twice(tmp_path: Path) -> None:
    draw = _title_and_footer(f"{LAKESHORE} - Home Office",
                             statement=f"This policy is underwritten by {LAKESHORE}, a Wisconsin stock insurer.")
    result = _both(_pdf(draw), tmp_path)
    assert result.status == "accepted" and _carrier(result) == (LAKESHORE, 0.87)


def test_an_agency_or_copyright_footer_names_no_carrier(tmp_path: Path) -> None:
    for footer in ("Summit Insurance Group - Your independent agent",
                   "Includes copyrighted material of Insurance Services Office, Inc., with its permission."):
        result = _both(_pdf(_title_and_footer(footer), wording_pages=2, running_footer=footer), tmp_path)
        assert result.status == "dead_letter" and _carrier(result)[0] is None, footer


def test_a_footer_naming_another_insurer_contradicts_the_heading(tmp_path: Path) -> None:
    def draw(c: Canvas) -> None:
        _heading(c)
        c.setFont("Helvetica", 8)
        c.drawString(48, 60, "Granite Peak Fire & Marine Insurance Company - Home Office")

    result = _both(_pdf(draw, wording_pages=2, running_header=LAKESHORE), tmp_path)
    assert result.status == "dead_letter" and _carrier(result)[1] < ACCEPT
