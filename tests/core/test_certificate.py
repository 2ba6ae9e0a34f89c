"""Certificates (ACORD 25 and look-alikes) on synthetic word layouts and form fields."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from policy_ray.config import Settings, load_pipeline_data
from policy_ray.core.mapping import map_document
from policy_ray.core.models import RawExtraction, Word
from tests.core.words import doc, line

DATA = load_pipeline_data(Settings())


def _certificate(title: str = "CERTIFICATE OF LIABILITY INSURANCE", marks: tuple[str, str] = ("", "")) -> RawExtraction:
    lines: list[list[Word]] = [
        line(30, (160, title), size=15),
        line(80, (33, "INSURED"), (309, "INSURER A :"), (350, "Larkmoor Indemnity Company"), size=6),
        line(92, (70, "Harbour Holdings LLC"), size=8.5),
        line(103, (70, "12 Alder Street"), size=8.5),
        line(114, (70, "Fenbury, WI 53001"), size=8.5),
        # Column captions over two lines, as the form prints them.
        line(200, (32, "INSR"), (170, "ADDL"), (186, "SUBR"), size=5),
        line(204, (90, "TYPE OF INSURANCE"), (215, "POLICY NUMBER"), (275, "POLICY EFF"), (327, "POLICY EXP"),
             (430, "LIMITS"), size=6),
        line(207, (33, "LTR"), (170, "INSD"), (187, "WVD"), size=5),
        line(225, (49, "COMMERCIAL GENERAL LIABILITY"), (374, "EACH OCCURRENCE"), (517, "$ 1,000,000"), size=6),
        line(240, (35, "A"), *[(171 + 17 * i, m) for i, m in enumerate(marks) if m],
             (202, "LKGL4664860"), (274, "02/01/2026"), (326, "02/01/2027"), (374, "GENERAL AGGREGATE"),
             (517, "$ 2,000,000"), size=8.5),
    ]
    return doc(*lines)


def test_a_printed_certificate_maps_its_first_policy() -> None:
    mapped = map_document(_certificate(), DATA.mapping)
    r = mapped.record
    assert (r.template_id, r.policy_number, r.carrier_name, r.insured_name) == (
        "acord25_printed", "LKGL4664860", "Larkmoor Indemnity Company", "Harbour Holdings LLC")
    assert (r.effective_date, r.expiration_date) == (date(2026, 2, 1), date(2027, 2, 1))
    assert [(c.name, c.limit) for c in r.coverages] == [
        ("General Liability - Each Occurrence", Decimal("1000000.00")),
        ("General Liability - General Aggregate", Decimal("2000000.00"))]
    assert mapped.confidence >= 0.85


def test_addl_insd_and_subr_wvd_marks_are_not_part_of_the_policy_number() -> None:
    for marks in (("Y", "Y"), ("X", "N"), ("", "Y")):
        mapped = map_document(_certificate(marks=marks), DATA.mapping)
        assert mapped.record.policy_number == "LKGL4664860", marks


def test_a_look_alike_with_another_title_is_read_as_a_certificate() -> None:
    mapped = map_document(_certificate(title="EVIDENCE OF COMMERCIAL INSURANCE"), DATA.mapping)
    r = mapped.record
    assert (r.template_id, r.carrier_name, r.policy_number) == ("acord25_printed", "Larkmoor Indemnity Company",
                                                               "LKGL4664860")


def _form(insured: str) -> RawExtraction:
    fields = {
        "NamedInsured_FullName_A": insured,
        "Insurer_FullName_A": "Quillfield Specialty Insurance Company",
        "GeneralLiability_InsurerLetterCode_A": "A",
        "Policy_GeneralLiability_PolicyNumberIdentifier_A": "QSGL1234567",
        "Policy_GeneralLiability_EffectiveDate_A": "01/05/2026",
        "Policy_GeneralLiability_ExpirationDate_A": "01/05/2027",
    }
    return RawExtraction("0" * 64, 1, (), form_fields=tuple((f"F[0].P1[0].{k}[0]", v) for k, v in fields.items()))


def test_a_multi_line_insured_box_gives_the_legal_name_only() -> None:
    mapped = map_document(_form("Granite Peak Florist Ltd.\nDBA Petal Pushers\n45 Oak St\nFenbury, WI 53001"),
                          DATA.mapping)
    assert mapped.record.insured_name == "Granite Peak Florist Ltd."
    assert mapped.field_confidence["insured_name"] >= 0.85
    wrapped = map_document(_form("The Board of Trustees of the\nRiverside Community Foundation, Inc.\n45 Oak St"),
                           DATA.mapping)
    assert wrapped.record.insured_name == "The Board of Trustees of the Riverside Community Foundation, Inc."


def test_an_insured_box_whose_name_end_is_unclear_is_not_accepted() -> None:
    mapped = map_document(_form("DBA Petal Pushers\nGranite Peak Florist Ltd."), DATA.mapping)
    assert mapped.field_confidence["insured_name"] < 0.85


def test_a_certificate_whose_limits_were_not_read_is_not_accepted() -> None:
    """The form's policy rows read, its LIMITS column not (as when a layout puts limits where the
    mapping does not look): the record would be a certificate without its limits. Not accepted."""
    from policy_ray.core.routing import route_document

    mapped = map_document(_form("Granite Peak Florist Ltd."), DATA.mapping)
    assert mapped.record.policy_number == "QSGL1234567" and mapped.record.coverages == ()
    assert mapped.field_confidence["policy_number"] >= 0.85
    assert "coverages" in mapped.missing_required and mapped.confidence < 0.85
    decision = route_document(mapped, source="text", text_layer=True, ocr_available=False, matrix=DATA.matrix)
    assert decision.route != "accept" and "coverages" in decision.reason
