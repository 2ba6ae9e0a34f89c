"""Regression: the layouts a review drew to probe the mapping (reportlab PDFs of carriers no template
knows), run through the real extractor, mapping and routing. Each was accepted with a wrong value, or
lost straight-through for a reason since fixed. The rule checked on every one: an accepted document
has every expected value right; and where the fix makes it possible, the document goes straight through.
All names are invented."""

from __future__ import annotations

import dataclasses
import io
import random
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen.canvas import Canvas

from policy_ray.config import Settings, load_pipeline_data
from policy_ray.core.identity import sha256_hex
from policy_ray.core.mapping import map_document
from policy_ray.core.models import MappedDocument
from policy_ray.core.routing import Route, route_document
from policy_ray.sample import acord_drawn
from policy_ray.sample.certificate import make_certificate
from policy_ray.stages.extract import ExtractStage

DATA = load_pipeline_data(Settings())
STAGE = ExtractStage(Settings(), DATA)
Draw = Callable[[Canvas], None]
BOLD = "Helvetica-Bold"


def _pdf(draw: Draw) -> bytes:
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=letter, invariant=1)
    draw(c)
    c.showPage()
    c.save()
    return buf.getvalue()


def _t(c: Canvas, x: float, y: float, s: str, size: float = 10, font: str = "Helvetica") -> None:
    c.setFont(font, size)
    c.drawString(x, y, s)


def _tr(c: Canvas, x: float, y: float, s: str, size: float = 10, font: str = "Helvetica") -> None:
    c.setFont(font, size)
    c.drawRightString(x, y, s)


def _run(data: bytes) -> tuple[MappedDocument, Route]:
    raw = STAGE.extract(data, sha256_hex(data))
    mapped = map_document(raw, DATA.mapping)
    decision = route_document(mapped, source=raw.source.value, text_layer=raw.has_text_layer, ocr_available=False,
                              matrix=DATA.matrix)
    return mapped, decision.route


def _lakeshore(c: Canvas) -> None:
    _t(c, 48, 750, "Lakeshore Mutual Insurance Company", 16, BOLD)


def _rest(c: Canvas, y: float = 650, *, insured: str = "Named Insured: Buckeye Tool & Die Co.",
          number: str = "Policy Number: CPP 0042 1177") -> None:
    for i, text in enumerate((insured, number, "Policy Period: 04/01/2026 to 04/01/2027", "Total Premium: $2,150.00")):
        _t(c, 48, y - 14 * i, text, 9)


def _granite(c: Canvas) -> None:
    _t(c, 48, 750, "Granite Peak Fire & Marine Insurance Company", 16, BOLD)
    _t(c, 48, 734, "A Stock Company   200 Summit Road, Denver CO 80202", 8)
    _t(c, 48, 710, "COMMERCIAL GENERAL LIABILITY DECLARATIONS", 12, BOLD)
    _t(c, 48, 680, "NAMED INSURED", 7, BOLD)
    _t(c, 320, 680, "POLICY NUMBER", 7, BOLD)
    _t(c, 48, 668, "Riverside Dental Associates, LLC")
    _t(c, 320, 668, "GL 204 5567-01")
    _t(c, 48, 656, "DBA Smile Bright Family Dentistry")
    _t(c, 320, 650, "POLICY PERIOD", 7, BOLD)
    _t(c, 48, 644, "1200 River Rd")
    _t(c, 320, 638, "From: January 5, 2026   To: January 5, 2027", 9)
    _t(c, 48, 632, "Boise, ID 83702")


def _agency(c: Canvas) -> None:
    _t(c, 48, 750, "Summit Insurance Group", 18, BOLD)
    _t(c, 48, 715, "Businessowners Policy Declarations", 12, BOLD)
    for i, (label, value) in enumerate((("Named Insured:", "Oakridge Veterinary Clinic, Inc."),
                                        ("Policy Number:", "BOP-7781234"),
                                        ("Policy Period:", "03/15/2026 to 03/15/2027"))):
        _t(c, 48, 690 - 14 * i, label, 9)
        _t(c, 150, 690 - 14 * i, value)
    _t(c, 48, 60, "Issued by Lakeshore Mutual Insurance Company", 8)


def _title(c: Canvas) -> None:
    _t(c, 48, 750, "COMMERCIAL PROPERTY INSURANCE DECLARATIONS", 16, BOLD)
    _t(c, 48, 734, "Lakeshore Mutual Insurance Company", 9)
    _rest(c)


def _wrapped(c: Canvas) -> None:
    _lakeshore(c)
    _t(c, 48, 700, "Named Insured and Mailing Address", 8, BOLD)
    _t(c, 48, 688, "The Board of Trustees of the Riverside Community")
    _t(c, 48, 676, "Hospital Foundation, Inc.")
    _t(c, 48, 664, "400 Main St, Springfield IL 62701")
    _t(c, 330, 700, "Policy Number", 8, BOLD)
    _t(c, 330, 688, "CPP 0042 1177")
    _t(c, 330, 670, "Policy Period", 8, BOLD)
    _t(c, 330, 658, "04/01/2026 - 04/01/2027")
    _t(c, 48, 600, "Total Premium: $2,150.00", 9)
    _t(c, 48, 60, "Lakeshore Mutual Insurance Company - Home Office, Madison WI 53703", 8)


def _dba_first(c: Canvas) -> None:
    _lakeshore(c)
    _t(c, 48, 700, "Insured:", 9)
    _t(c, 130, 700, "DBA Joe's Pizza")
    _t(c, 130, 688, "Giuseppe Holdings LLC")
    _t(c, 48, 672, "Policy Number:", 9)
    _t(c, 130, 672, "PKG 553 2910")
    _t(c, 48, 658, "Effective Date:", 9)
    _t(c, 130, 658, "April 1, 2026 12:01 AM")
    _t(c, 48, 644, "Expiration Date:", 9)
    _t(c, 130, 644, "April 1, 2027 12:01 AM")


def _insured_location(c: Canvas) -> None:
    _lakeshore(c)
    _t(c, 48, 700, "Insured Location: 45 Oak Street, Dayton OH", 9)
    _t(c, 48, 686, "Applicant: Buckeye Tool & Die Co.", 9)
    _t(c, 48, 672, "Policy Number: PKG 553 2910", 9)
    _t(c, 48, 658, "Effective: 04/01/2026      Expires: 04/01/2027", 9)
    _t(c, 48, 644, "Total Premium: $2,150.00", 9)


def _see_schedule(c: Canvas) -> None:
    _lakeshore(c)
    _rest(c, insured="Named Insured: See Named Insured Schedule IL 12 01")


def _new_suffix(c: Canvas) -> None:
    _lakeshore(c)
    _rest(c, number="Policy Number: CPP0042117 NEW")


def _address_value(c: Canvas) -> None:
    _lakeshore(c)
    _t(c, 48, 700, "Named Insured", 8, BOLD)
    _t(c, 48, 676, "1200 River Road, Suite 4")
    _t(c, 200, 688, "Buckeye Tool & Die Co.", 12)
    _rest(c, 640, insured="")


def _fees(c: Canvas) -> None:
    _lakeshore(c)
    _rest(c, 700)
    y = 620
    for x, h in ((48, "Coverage"), (330, "Limit"), (440, "Deductible"), (560, "Premium")):
        (_t if x == 48 else _tr)(c, x, y, h, 9, BOLD)
    rows = (("General Liability", "$1,000,000", "$1,000", "$1,000.00"), ("Property", "$250,000", "$2,500", "$500.00"),
            ("Policy Fee", "", "", "$50.00"), ("State Surcharge", "", "", "$15.00"))
    for row in rows:
        y -= 14
        _t(c, 48, y, row[0], 9)
        for x, v in zip((330, 440, 560), row[1:], strict=True):
            if v:
                _tr(c, x, y, v, 9)
    _t(c, 48, y - 18, "Total Amount Due", 9, BOLD)
    _tr(c, 560, y - 18, "$1,565.00", 9, BOLD)


def _west(c: Canvas) -> None:
    _t(c, 48, 750, "Insurance Company of the West", 16, BOLD)
    _t(c, 48, 734, "11455 El Camino Real, San Diego CA 92130", 9)
    _rest(c)


def _insured_copy(c: Canvas) -> None:
    _lakeshore(c)
    _t(c, 480, 770, "INSURED COPY", 9, BOLD)
    _rest(c)


def _carrier_code(c: Canvas) -> None:
    _lakeshore(c)
    _t(c, 48, 720, "Carrier Code: 4471", 9)
    _rest(c)


def _hijack(c: Canvas) -> None:
    _lakeshore(c)
    _t(c, 48, 725, "BUSINESSOWNERS POLICY DECLARATIONS", 12, BOLD)
    _rest(c, 700, number="Policy Number: LMI-BP-7781234")
    _t(c, 48, 630, "Prior Carrier: Cedar Ridge Casualty Company", 9)


def _additional_insured(c: Canvas) -> None:
    _lakeshore(c)
    _t(c, 48, 700, "NAMED INSURED", 7, BOLD)
    _t(c, 48, 688, "Buckeye Tool & Die Co.")
    _rest(c, 660, insured="Mailing Address: 12 Alder Street, Dayton, OH 45402", number="Policy Number: LMI-BP-7781234")
    _t(c, 48, 600, "Additional Insured: First Federal Bank of Ohio", 9)
    _t(c, 48, 60, "Lakeshore Mutual Insurance Company - Home Office", 8)


def _caption_row(c: Canvas) -> None:
    _lakeshore(c)
    _t(c, 48, 700, "POLICY NUMBER EFFECTIVE DATE EXPIRATION DATE", 7, BOLD)
    _t(c, 48, 688, "LMI-7781234", 8)
    _t(c, 106, 688, "04/01/2026", 8)
    _t(c, 162, 688, "04/01/2027", 8)
    _t(c, 48, 660, "Named Insured: Buckeye Tool & Die Co.", 9)
    _t(c, 48, 646, "Mailing Address: 12 Alder Street, Dayton, OH 45402", 9)
    _t(c, 48, 60, "Lakeshore Mutual Insurance Company - Home Office", 8)


def _overprinted(c: Canvas) -> None:
    # The number's cell is too narrow: the effective date is printed over its last digits.
    _lakeshore(c)
    _t(c, 48, 700, "POLICY NUMBER EFFECTIVE DATE EXPIRATION DATE", 7, BOLD)
    _t(c, 48, 688, "LMI-BP-7781234")
    _t(c, 113, 688, "04/01/2026")
    _t(c, 170, 688, "04/01/2027")
    _t(c, 48, 660, "Named Insured: Buckeye Tool & Die Co.", 9)
    _t(c, 48, 632, "Total Premium: $2,150.00", 9)


LAKESHORE = "Lakeshore Mutual Insurance Company"
BUCKEYE = "Buckeye Tool & Die Co."
APRIL = {"effective_date": date(2026, 4, 1), "expiration_date": date(2027, 4, 1)}
# name -> (drawing, expected values, whether the document must now go straight through)
CASES: dict[str, tuple[Draw, dict[str, Any], bool]] = {
    "boxed two columns, DBA under the name": (_granite, {
        "carrier_name": "Granite Peak Fire & Marine Insurance Company", "policy_number": "GL 204 5567-01",
        "insured_name": "Riverside Dental Associates, LLC", "effective_date": date(2026, 1, 5),
        "expiration_date": date(2027, 1, 5)}, True),  # "A Stock Company" under the heading: an insurer's
    "agency letterhead, insurer in the footer": (_agency, {
        "carrier_name": LAKESHORE, "policy_number": "BOP-7781234", "insured_name": "Oakridge Veterinary Clinic, Inc.",
        "effective_date": date(2026, 3, 15), "expiration_date": date(2027, 3, 15)}, True),
    "document title as the largest heading": (_title, {"carrier_name": LAKESHORE, "insured_name": BUCKEYE,
                                                      "policy_number": "CPP 0042 1177", **APRIL}, False),
    # Right values, but both dates come from one line under one caption: no "regular term" corroboration.
    "insured name wrapped onto two lines": (_wrapped, {
        "carrier_name": LAKESHORE, "policy_number": "CPP 0042 1177",
        "insured_name": "The Board of Trustees of the Riverside Community Hospital Foundation, Inc.", **APRIL}, False),
    "trade name before the legal name": (_dba_first, {"carrier_name": LAKESHORE, "policy_number": "PKG 553 2910",
                                                      "insured_name": "Giuseppe Holdings LLC", **APRIL}, False),
    "insured location caption": (_insured_location, {"carrier_name": LAKESHORE, "policy_number": "PKG 553 2910",
                                                      "insured_name": BUCKEYE, **APRIL}, False),
    "see schedule instead of a name": (_see_schedule, {"insured_name": "(a name on the schedule)"}, False),
    "status word after the policy number": (_new_suffix, {"policy_number": "CPP0042117", "insured_name": BUCKEYE,
                                                          "carrier_name": LAKESHORE, **APRIL}, False),
    "only an address under the insured caption": (_address_value, {"insured_name": BUCKEYE}, False),
    "fees and an amount due in the schedule": (_fees, {"carrier_name": LAKESHORE, "insured_name": BUCKEYE,
                                                       "total_premium": Decimal("2150.00"), **APRIL}, False),
    "carrier name that begins with a label": (_west, {"carrier_name": "Insurance Company of the West",
                                                      "insured_name": BUCKEYE, **APRIL}, False),
    "insured copy stamp": (_insured_copy, {"insured_name": BUCKEYE, "carrier_name": LAKESHORE, **APRIL}, False),
    "carrier code caption": (_carrier_code, {"carrier_name": LAKESHORE, "insured_name": BUCKEYE, **APRIL}, False),
    "prior carrier names a template's carrier": (_hijack, {"carrier_name": LAKESHORE, "insured_name": BUCKEYE,
                                                           "policy_number": "LMI-BP-7781234", **APRIL}, False),
    "additional insured": (_additional_insured, {"carrier_name": LAKESHORE, "insured_name": BUCKEYE,
                                                 "policy_number": "LMI-BP-7781234", **APRIL}, True),
    "policy number overprinted by a date": (_overprinted, {"carrier_name": LAKESHORE, "insured_name": BUCKEYE,
                                                           "policy_number": "LMI-BP-7781234", **APRIL}, False),
    "captions typed in one run": (_caption_row, {"carrier_name": LAKESHORE, "insured_name": BUCKEYE,
                                                 "policy_number": "LMI-7781234", **APRIL}, True),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_unfamiliar_layout_is_never_accepted_with_a_wrong_value(case: str) -> None:
    draw, expected, straight_through = CASES[case]
    mapped, route = _run(_pdf(draw))
    if route is Route.ACCEPT:
        got = {name: getattr(mapped.record, name) for name in expected}
        assert got == expected, case
    assert route is Route.ACCEPT or not straight_through, (case, mapped.evidence, mapped.field_confidence)


def test_fees_are_no_coverages_and_the_amount_due_no_premium() -> None:
    mapped, _ = _run(_pdf(_fees))
    assert [c.name for c in mapped.record.coverages] == ["General Liability", "Property"]
    assert mapped.record.total_premium != Decimal("1565.00")


def test_a_policy_number_glued_to_a_date_is_never_read() -> None:
    mapped, route = _run(_pdf(_overprinted))
    assert mapped.record.policy_number is None, mapped.evidence
    assert route is not Route.ACCEPT


def _certificate_pdf(marks: tuple[str, str] | None, title: str | None = None) -> tuple[bytes, Any]:
    cert = make_certificate(random.Random(7))
    if marks is not None:
        cert = dataclasses.replace(cert, marks=tuple(marks for _ in cert.policies))
    if title is None:
        return acord_drawn.draw_certificate(cert), cert
    original = acord_drawn.draw.put_center

    def retitled(c: Canvas, x: float, y: float, text: str, *args: Any, **kwargs: Any) -> None:
        original(c, x, y, title if text == "CERTIFICATE OF LIABILITY INSURANCE" else text, *args, **kwargs)

    acord_drawn.draw.put_center = retitled
    try:
        return acord_drawn.draw_certificate(cert), cert
    finally:
        acord_drawn.draw.put_center = original


@pytest.mark.parametrize(("marks", "title"), [(None, None), (("Y", "Y"), None), (("X", "N"), None),
                                              (("Y", "Y"), "EVIDENCE OF COMMERCIAL INSURANCE")])
def test_a_certificates_check_marks_and_title_do_not_change_what_is_read(marks: tuple[str, str] | None,
                                                                        title: str | None) -> None:
    data, cert = _certificate_pdf(marks, title)
    mapped, route = _run(data)
    first = cert.policies[0]
    r = mapped.record
    assert route is Route.ACCEPT
    assert (r.template_id, r.policy_number, r.carrier_name, r.insured_name) == (
        "acord25_printed", first.number, cert.insurer(first.insurer_letter).name, cert.insured.name)
    assert (r.effective_date, r.expiration_date) == (first.effective, first.expiration)
