"""The mapping layer on synthetic word layouts: labels inline, beside and below; schedules; conflicts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from policy_ray.config import Settings, load_pipeline_data
from policy_ray.core.mapping import map_document
from policy_ray.core.models import Page, RawExtraction, Word

DATA = load_pipeline_data(Settings())


def _line(y: float, *cells: tuple[float, str], size: float = 9.0) -> list[Word]:
    words: list[Word] = []
    for x, text in cells:
        cursor = x
        for token in text.split():
            width = len(token) * size * 0.5
            words.append(Word(token, cursor, y, cursor + width, y + size))
            cursor += width + size * 0.28
    return words


def _doc(*lines: list[Word], pages: int = 1) -> RawExtraction:
    words = tuple(w for line in lines for w in line)
    return RawExtraction(doc_sha256="0" * 64, page_count=pages, pages=(Page(1, 612, 792, words),))


def _generic_declarations(period: str = "Policy Period: 03/01/2026 to 03/01/2027") -> RawExtraction:
    return _doc(
        _line(40, (48, "Acme Shield Insurance Company"), size=18),
        _line(90, (48, "Policy No.: ASI-77-1234567")),
        _line(104, (48, "Named Insured: Quill & Ladder Bakery LLC")),
        _line(118, (48, period)),
        _line(160, (48, "Coverage"), (300, "Limit"), (400, "Deductible"), (500, "Premium")),
        _line(174, (48, "Building"), (300, "$500,000"), (400, "$1,000"), (500, "$1,200.00")),
        _line(188, (48, "Business Personal Property"), (300, "$100,000"), (400, "N/A"), (500, "$300.50")),
        _line(202, (48, "Total Premium"), (500, "$1,500.50")),
    )


def test_generic_declarations_map_every_field() -> None:
    mapped = map_document(_generic_declarations(), DATA.mapping)
    r = mapped.record
    assert r.template_id == "generic"
    assert r.carrier_name == "Acme Shield Insurance Company"
    assert r.policy_number == "ASI-77-1234567"
    assert r.insured_name == "Quill & Ladder Bakery LLC"
    assert (r.effective_date, r.expiration_date) == (date(2026, 3, 1), date(2027, 3, 1))
    assert r.total_premium == Decimal("1500.50")
    assert [(c.name, c.limit, c.deductible, c.premium) for c in r.coverages] == [
        ("Building", Decimal("500000.00"), Decimal("1000.00"), Decimal("1200.00")),
        ("Business Personal Property", Decimal("100000.00"), None, Decimal("300.50")),
    ]
    assert mapped.field_confidence["total_premium"] >= 0.95  # the premiums add up to the printed total
    assert mapped.confidence >= 0.85 and not mapped.validation_errors


def test_value_below_its_label_in_a_box() -> None:
    raw = _doc(
        _line(40, (48, "Stonebridge Indemnity Co."), size=18),
        _line(80, (48, "POLICY NUMBER"), (300, "NAMED INSURED"), size=6),
        _line(90, (48, "SB-2026-000417"), (300, "Harrow Farms Inc.")),
        _line(120, (48, "EFFECTIVE DATE"), (300, "EXPIRATION DATE"), size=6),
        _line(130, (48, "2026-05-01"), (300, "2027-05-01")),
    )
    r = map_document(raw, DATA.mapping).record
    assert (r.policy_number, r.insured_name) == ("SB-2026-000417", "Harrow Farms Inc.")
    assert (r.effective_date, r.expiration_date) == (date(2026, 5, 1), date(2027, 5, 1))


def test_impossible_term_is_a_validation_error() -> None:
    mapped = map_document(_generic_declarations("Policy Period: 03/01/2027 to 03/01/2026"), DATA.mapping)
    assert any(e.startswith("expiration_date") for e in mapped.validation_errors)
    assert mapped.confidence < 0.5


def test_premiums_that_do_not_add_up_lower_confidence() -> None:
    raw = _generic_declarations()
    words = [w if w.text != "$1,500.50" else Word("$1,900.50", w.x0, w.top, w.x1, w.bottom) for w in raw.pages[0].words]
    mapped = map_document(RawExtraction("0" * 64, 1, (Page(1, 612, 792, tuple(words)),)), DATA.mapping)
    assert mapped.field_confidence["total_premium"] < 0.8
    assert any(e.startswith("total_premium") for e in mapped.validation_errors)


def test_prose_is_not_a_document_we_recognize() -> None:
    raw = _doc(_line(40, (48, "The quick brown fox jumps over the lazy dog.")))
    mapped = map_document(raw, DATA.mapping)
    assert not mapped.recognized and mapped.confidence == 0.0


def test_acord25_form_fields_map_to_a_certificate() -> None:
    prefix = "F[0].P1[0]."
    fields = {
        "NamedInsured_FullName_A": "Orchard Lane Cidery LLC",
        "Insurer_FullName_A": "Granite Peak Insurance Company",
        "Insurer_FullName_B": "Lakeshore Casualty Co.",
        "GeneralLiability_InsurerLetterCode_A": "A",
        "Policy_GeneralLiability_PolicyNumberIdentifier_A": "GPGL1234567",
        "Policy_GeneralLiability_EffectiveDate_A": "02/01/2026",
        "Policy_GeneralLiability_ExpirationDate_A": "02/01/2027",
        "GeneralLiability_EachOccurrence_LimitAmount_A": "1,000,000",
        "WorkersCompensationEmployersLiability_InsurerLetterCode_A": "B",
        "Policy_WorkersCompensationAndEmployersLiability_PolicyNumberIdentifier_A": "WC 12-7654321",
        "Policy_WorkersCompensationAndEmployersLiability_EffectiveDate_A": "03/15/2026",
        "Policy_WorkersCompensationAndEmployersLiability_ExpirationDate_A": "03/15/2027",
        "WorkersCompensationEmployersLiability_EmployersLiability_EachAccidentLimitAmount_A": "500,000",
    }
    raw = RawExtraction("0" * 64, 1, (), form_fields=tuple((prefix + k + "[0]", v) for k, v in fields.items()))
    mapped = map_document(raw, DATA.mapping)
    r = mapped.record
    assert (r.document_type, r.template_id) == ("certificate", "acord25_form")
    assert (r.policy_number, r.carrier_name, r.insured_name) == ("GPGL1234567", "Granite Peak Insurance Company",
                                                                 "Orchard Lane Cidery LLC")
    assert r.total_premium is None
    assert [(c.name, c.limit, c.policy_number, c.carrier_name) for c in r.coverages] == [
        ("General Liability - Each Occurrence", Decimal("1000000.00"), "GPGL1234567", "Granite Peak Insurance Company"),
        ("Employers Liability - Each Accident", Decimal("500000.00"), "WC 12-7654321", "Lakeshore Casualty Co."),
    ]
    assert mapped.confidence >= 0.9
