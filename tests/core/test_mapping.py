"""The mapping layer on synthetic word layouts: labels inline, beside and below; schedules; conflicts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from policy_ray.config import Settings, load_pipeline_data
from policy_ray.core.mapping import map_document
from policy_ray.core.models import Page, RawExtraction, Word
from tests.core.words import doc, line

DATA = load_pipeline_data(Settings())




# An insurer's letterhead: its NAIC code and address under its name. A heading with nothing like it is
# not trusted to name the carrier (an agency's letterhead looks the same).
def _letterhead(name: str) -> list[list[Word]]:
    return [line(40, (48, name), size=18), line(62, (48, "NAIC #12345   100 Main Street, Springfield, IL 62701"),
                                                  size=8)]


def _generic_declarations(period: str = "Policy Period: 03/01/2026 to 03/01/2027") -> RawExtraction:
    return doc(
        *_letterhead("Acme Shield Insurance Company"),
        line(90, (48, "Policy No.: ASI-77-1234567")),
        line(104, (48, "Named Insured: Quill & Ladder Bakery LLC")),
        line(118, (48, period)),
        line(160, (48, "Coverage"), (300, "Limit"), (400, "Deductible"), (500, "Premium")),
        line(174, (48, "Building"), (300, "$500,000"), (400, "$1,000"), (500, "$1,200.00")),
        line(188, (48, "Business Personal Property"), (300, "$100,000"), (400, "N/A"), (500, "$300.50")),
        line(202, (48, "Total Premium"), (500, "$1,500.50")),
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
    raw = doc(
        line(40, (48, "Stonebridge Indemnity Co."), size=18),
        line(80, (48, "POLICY NUMBER"), (300, "NAMED INSURED"), size=6),
        line(90, (48, "SB-2026-000417"), (300, "Harrow Farms Inc.")),
        line(120, (48, "EFFECTIVE DATE"), (300, "EXPIRATION DATE"), size=6),
        line(130, (48, "2026-05-01"), (300, "2027-05-01")),
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
    raw = doc(line(40, (48, "The quick brown fox jumps over the lazy dog.")))
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


def test_a_longer_caption_that_a_label_only_begins_is_not_taken_as_the_value() -> None:
    # Box captions carrier forms use ("NAMED INSURED & PRINCIPAL ADDRESS") that no label list names in full:
    # the words after "NAMED INSURED" continue the caption; the insured's name is in the box underneath.
    mapped = map_document(doc(
        line(40, (48, "Acme Shield Insurance Company"), size=18),
        line(90, (48, "POLICY NUMBER"), (300, "POLICY PERIOD"), size=7),
        line(100, (48, "ASI-77-1234567"), (300, "03/01/2026 to 03/01/2027")),
        line(130, (48, "NAMED INSURED & PRINCIPAL ADDRESS"), size=7),
        line(140, (48, "Quill & Ladder Bakery LLC")),
        line(152, (48, "12 Mill Road, Springfield")),
    ), DATA.mapping)
    assert mapped.record.insured_name == "Quill & Ladder Bakery LLC"
    assert mapped.record.policy_number == "ASI-77-1234567"


def test_common_premium_and_reference_captions_are_read() -> None:
    mapped = map_document(doc(
        line(40, (48, "Larkspur Specialty Insurance Ltd"), size=18),
        line(90, (48, "Policy Reference: LSI/PL/2026/00731")),
        line(104, (48, "Insured: Vantage Dental Group PC")),
        line(118, (48, "Inception Date: 2026-04-01"), (300, "Expiry Date: 2027-04-01")),
        line(132, (48, "Total Advance Premium: $2,450.00")),
    ), DATA.mapping)
    r = mapped.record
    assert (r.policy_number, r.insured_name, r.total_premium) == ("LSI/PL/2026/00731", "Vantage Dental Group PC",
                                                                   Decimal("2450.00"))
    assert (r.effective_date, r.expiration_date) == (date(2026, 4, 1), date(2027, 4, 1))


def test_a_day_month_order_the_document_does_not_establish_keeps_it_out_of_straight_through() -> None:
    def perioddoc(premium: str, address: str = "12 Mill Row") -> RawExtraction:
        return doc(
            line(40, (48, "Harrowgate Assurance Ltd"), size=18),
            line(62, (48, f"NAIC #12345   {address}"), size=8),
            line(90, (48, "Policy Number: HBL-77812")),
            line(104, (48, "Policyholder: Fenwick & Daughters Ltd")),
            line(118, (48, "Period of Insurance: 05/06/2026 to 05/06/2027")),
            line(132, (48, f"Total Premium: {premium}")),
        )

    pounds = map_document(perioddoc("GBP 812.40"), DATA.mapping)
    assert (pounds.record.effective_date, pounds.record.expiration_date) == (date(2026, 6, 5), date(2027, 6, 5))
    assert pounds.confidence >= 0.85
    # "$" alone establishes nothing: Canada and Australia print it too. A US address does.
    dollars = map_document(perioddoc("$812.40"), DATA.mapping)
    assert dollars.field_confidence["effective_date"] < 0.85 and dollars.confidence < 0.85
    us = map_document(perioddoc("$812.40", "12 Mill Row, Dayton, OH 45402"), DATA.mapping)
    assert (us.record.effective_date, us.record.expiration_date) == (date(2026, 5, 6), date(2027, 5, 6))
    assert us.confidence >= 0.85 and us.record.currency == "USD"
    australian = map_document(perioddoc("$812.40", "12 Mill Row, Perth WA 6000"), DATA.mapping)
    assert (australian.record.effective_date, australian.record.currency) == (date(2026, 6, 5), "AUD")
    # No currency and no date that only one order can read: both readings are regular terms, so the
    # term does not corroborate either, and the dates stay below the accept threshold.
    unknown = map_document(perioddoc("812.40"), DATA.mapping)
    assert unknown.field_confidence["effective_date"] < 0.85 and unknown.confidence < 0.85


def test_labels_set_on_one_line_with_ordinary_spaces_are_each_read() -> None:
    mapped = map_document(doc(
        *_letterhead("Westfold Mutual Insurance Company"),
        line(90, (48, "Policy No. WX-40012   Named Insured: Pemberton Holdings Inc")),
        line(104, (48, "Effective Date: 02/10/2026 Expiration Date: 02/10/2027")),
        line(118, (48, "Policy Premium $3,003.00")),
    ), DATA.mapping)
    r = mapped.record
    assert (r.policy_number, r.insured_name) == ("WX-40012", "Pemberton Holdings Inc")
    assert (r.effective_date, r.expiration_date) == (date(2026, 2, 10), date(2027, 2, 10))
    assert r.total_premium == Decimal("3003.00") and mapped.confidence >= 0.85


def test_a_key_value_grid_without_colons_is_read_straight_through() -> None:
    def grid(*rows: tuple[str, str]) -> RawExtraction:
        return doc(*_letterhead("Texline Indemnity Company"),
                    *(line(90 + 14 * i, (48, label), (200, value)) for i, (label, value) in enumerate(rows)))

    full = map_document(grid(("POLICY NO", "TX-2093-1182"), ("INSURED", "Redfern Machining LLC"),
                             ("EFFECTIVE", "2026-05-01"), ("EXPIRES", "2027-05-01")), DATA.mapping)
    assert (full.record.policy_number, full.record.insured_name) == ("TX-2093-1182", "Redfern Machining LLC")
    assert full.confidence >= 0.85
    # One label beside one value is no grid: it could be two captions side by side.
    lone = map_document(doc(line(40, (48, "Texline Indemnity Company"), size=18),
                             line(90, (48, "POLICY NO"), (200, "TX-2093-1182")),
                             line(104, (48, "Insured: Redfern Machining LLC")),
                             line(118, (48, "Policy Period: 05/01/2026 to 05/01/2027"))), DATA.mapping)
    assert lone.record.policy_number == "TX-2093-1182" and lone.field_confidence["policy_number"] < 0.85


def test_a_template_can_state_its_carriers_date_order() -> None:
    import dataclasses

    from policy_ray.core.mapping import _date_order

    template = DATA.mapping.registry.templates[0]
    assert _date_order(template, "05/06/2026  $5.00") is False  # from the document: dollars
    day_first = dataclasses.replace(template, options={**template.options, "date_order": "dmy"})
    assert _date_order(day_first, "05/06/2026  $5.00") is True
