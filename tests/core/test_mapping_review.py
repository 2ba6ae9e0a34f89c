"""Unfamiliar layouts a review found accepted with wrong values, and straight-through losses it found:
each as a small word layout mapped end to end. A value the evidence cannot support is never accepted."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from policy_ray.config import Settings, load_pipeline_data
from policy_ray.core.mapping import map_document
from policy_ray.core.models import MappedDocument, Word
from tests.core.words import doc, letterhead, line

DATA = load_pipeline_data(Settings())
ACCEPT = DATA.matrix.thresholds.accept
ADDRESS = "100 Main Street, Springfield, IL 62701"


def _map(*lines: list[Word]) -> MappedDocument:
    return map_document(doc(*lines), DATA.mapping)


def _body(y: float = 100, *, insured: str = "Named Insured: Buckeye Tool & Die Co.",
          number: str = "Policy Number: LMI-BP-7781234") -> list[list[Word]]:
    return [line(y, (48, insured)), line(y + 14, (48, number)),
            line(y + 28, (48, "Policy Period: 04/01/2026 to 04/01/2027")),
            line(y + 42, (48, "Total Premium: $2,150.00")), line(y + 56, (48, f"Mailing Address: {ADDRESS}"))]


def test_a_complete_generic_declarations_goes_straight_through() -> None:
    mapped = _map(*letterhead("Lakeshore Mutual Insurance Company"), *_body())
    r = mapped.record
    assert (r.carrier_name, r.policy_number, r.insured_name) == (
        "Lakeshore Mutual Insurance Company", "LMI-BP-7781234", "Buckeye Tool & Die Co.")
    assert (r.effective_date, r.expiration_date, r.total_premium, r.currency) == (
        date(2026, 4, 1), date(2027, 4, 1), Decimal("2150.00"), "USD")
    assert mapped.confidence >= ACCEPT


def test_a_title_or_an_agency_at_the_top_is_never_the_carrier() -> None:
    title = _map(line(40, (48, "COMMERCIAL PROPERTY INSURANCE DECLARATIONS"), size=16), *_body())
    assert title.record.carrier_name != "COMMERCIAL PROPERTY INSURANCE DECLARATIONS"
    agency = _map(line(40, (48, "Summit Insurance Group"), size=18), *_body(),
                  line(700, (48, "Issued by Lakeshore Mutual Insurance Company"), size=8))
    assert agency.record.carrier_name == "Lakeshore Mutual Insurance Company" and agency.confidence >= ACCEPT


def test_a_heading_the_document_never_repeats_is_not_accepted() -> None:
    mapped = _map(line(40, (48, "Granite Peak Fire & Marine Insurance Company"), size=16), *_body())
    assert mapped.record.carrier_name == "Granite Peak Fire & Marine Insurance Company"
    assert mapped.field_confidence["carrier_name"] < ACCEPT


def test_a_caption_a_label_only_begins_gives_no_value() -> None:
    code = _map(*letterhead("Lakeshore Mutual Insurance Company"), line(80, (48, "Carrier Code: 4471")), *_body())
    assert code.record.carrier_name == "Lakeshore Mutual Insurance Company"
    west = _map(line(40, (48, "Insurance Company of the West"), size=16),
                line(58, (48, "11455 El Camino Real, San Diego CA 92130"), size=9), *_body())
    assert west.record.carrier_name in (None, "Insurance Company of the West")
    assert west.field_confidence.get("carrier_name", 0) < ACCEPT  # said nowhere else
    location = _map(*letterhead("Lakeshore Mutual Insurance Company"),
                    *_body(insured="Insured Location: 45 Oak Street, Dayton OH"))
    assert location.record.insured_name is None


def test_placeholders_and_addresses_are_no_insured() -> None:
    for text in ("See Named Insured Schedule IL 12 01", "Same as above", "Per Schedule", "TBD", "Various"):
        mapped = _map(*letterhead("Lakeshore Mutual Insurance Company"), *_body(insured=f"Named Insured: {text}"))
        assert mapped.record.insured_name is None, text
    boxed = _map(*letterhead("Lakeshore Mutual Insurance Company"), line(90, (48, "Named Insured"), size=8),
                 line(112, (48, "1200 River Road, Suite 4"), size=10), *_body(140, insured="Agent: Pellow"))
    assert boxed.record.insured_name is None


def test_a_wrapped_insured_name_is_joined_and_a_trade_name_is_not_the_insured() -> None:
    wrapped = _map(*letterhead("Lakeshore Mutual Insurance Company"),
                   line(90, (48, "Named Insured and Mailing Address"), size=8),
                   line(102, (48, "The Board of Trustees of the Riverside Community"), size=10),
                   line(114, (48, "Hospital Foundation, Inc."), size=10),
                   line(126, (48, "400 Main St, Springfield IL 62701"), size=10),
                   *_body(160, insured="Agent: Pellow"))
    assert wrapped.record.insured_name == "The Board of Trustees of the Riverside Community Hospital Foundation, Inc."
    assert wrapped.confidence >= ACCEPT
    dba_first = _map(*letterhead("Lakeshore Mutual Insurance Company"),
                     line(90, (48, "Insured:"), (130, "DBA Joe's Pizza"), size=10),
                     line(102, (130, "Giuseppe Holdings LLC"), size=10), *_body(140, insured="Agent: Pellow"))
    assert dba_first.record.insured_name != "DBA Joe's Pizza"
    assert dba_first.field_confidence["insured_name"] < ACCEPT


def test_status_words_years_and_form_codes_are_no_policy_number() -> None:
    new = _map(*letterhead("Lakeshore Mutual Insurance Company"), *_body(number="Policy Number: CPP0042117 NEW"))
    assert new.record.policy_number == "CPP0042117"
    for text in ("2026", "WC 2026", "1234", "IL 12 01"):
        mapped = _map(*letterhead("Lakeshore Mutual Insurance Company"), *_body(number=f"Policy Number: {text}"))
        assert mapped.record.policy_number is None, text
    prior = _map(*letterhead("Lakeshore Mutual Insurance Company"),
                 *_body(number="Policy Number: CPP0042117 Previous Policy Number: CPP0042116"))
    assert prior.record.policy_number == "CPP0042117" and prior.confidence >= ACCEPT


def test_fees_are_not_coverages_and_the_amount_due_is_not_the_premium() -> None:
    mapped = _map(*letterhead("Lakeshore Mutual Insurance Company"), *_body(insured="Named Insured: Buckeye Tool"),
                  line(300, (48, "Coverage"), (300, "Limit"), (400, "Deductible"), (500, "Premium")),
                  line(314, (48, "General Liability"), (300, "$1,000,000"), (400, "$1,000"), (500, "$1,000.00")),
                  line(328, (48, "Property"), (300, "$250,000"), (400, "$2,500"), (500, "$500.00")),
                  line(342, (48, "Policy Fee"), (500, "$50.00")),
                  line(356, (48, "State Surcharge"), (500, "$15.00")),
                  line(374, (48, "Total Amount Due"), (500, "$1,565.00")))
    r = mapped.record
    assert [c.name for c in r.coverages] == ["General Liability", "Property"]
    # The label says $2,150.00 and the schedule's premiums say $1,500.00: contradictory, not accepted.
    assert mapped.field_confidence["total_premium"] < DATA.matrix.thresholds.field_keep
    alone = _map(*letterhead("Lakeshore Mutual Insurance Company"), *_body()[:3],
                 line(300, (48, "Coverage"), (300, "Limit"), (400, "Deductible"), (500, "Premium")),
                 line(314, (48, "General Liability"), (300, "$1,000,000"), (400, "$1,000"), (500, "$1,000.00")),
                 line(328, (48, "Property"), (300, "$250,000"), (400, "$2,500"), (500, "$500.00")),
                 line(342, (48, "Policy Fee"), (500, "$50.00")),
                 line(360, (48, "Total Amount Due"), (500, "$1,550.00")))
    assert alone.record.total_premium == Decimal("1500.00")  # the premiums, not the amount due


def test_a_dollar_sign_on_a_canadian_or_australian_document_is_not_usd_and_dates_are_not_us() -> None:
    canada = _map(*letterhead("Lakeshore Mutual Insurance Company", "88 Front St W, Toronto, ON M5J 2X2"),
                  *_body()[:4])
    assert canada.record.currency == "CAD"
    assert canada.field_confidence["effective_date"] < ACCEPT  # Canada writes 04/01/2026 both ways
    australia = _map(*letterhead("Lakeshore Mutual Insurance Company", "12 George St, Sydney NSW 2000"),
                     *_body()[:4])
    assert (australia.record.currency, australia.record.effective_date) == ("AUD", date(2026, 1, 4))


def test_a_mention_of_a_template_carrier_does_not_select_its_template() -> None:
    mapped = _map(*letterhead("Lakeshore Mutual Insurance Company"),
                  line(80, (48, "BUSINESSOWNERS POLICY DECLARATIONS")), *_body(),
                  line(200, (48, "Prior Carrier: Cedar Ridge Casualty Company")))
    assert mapped.record.template_id == "generic"
    assert mapped.record.carrier_name == "Lakeshore Mutual Insurance Company" and mapped.confidence >= ACCEPT


def test_a_template_carrier_contradicted_by_the_heading_is_not_accepted() -> None:
    # The form code matches Cedar's template, but page 1 is headed by another insurer.
    mapped = _map(*letterhead("Lakeshore Mutual Insurance Company"), *_body(),
                  line(200, (48, "Cedar Ridge Casualty Company")), line(760, (48, "CRC BP DEC 2025"), size=7))
    assert mapped.record.template_id == "cedar_bop_dec"
    assert mapped.field_confidence["carrier_name"] < ACCEPT


def test_two_dates_of_one_period_do_not_corroborate_each_other() -> None:
    below = _map(*letterhead("Lakeshore Mutual Insurance Company"), *_body()[:2],
                 line(200, (48, "POLICY PERIOD"), size=7), line(210, (48, "04/01/2026 - 04/01/2027"), size=10))
    assert below.field_confidence["effective_date"] < 0.9  # no "regular term" boost from one line
    separate = _map(*letterhead("Lakeshore Mutual Insurance Company"), *_body()[:2],
                    line(200, (48, "EFFECTIVE DATE"), (200, "EXPIRATION DATE"), size=7),
                    line(210, (48, "04/01/2026"), (200, "04/01/2027"), size=10))
    assert separate.field_confidence["effective_date"] >= 0.92


def test_a_credible_different_value_elsewhere_keeps_a_field_out_of_straight_through() -> None:
    mapped = _map(*letterhead("Lakeshore Mutual Insurance Company"), *_body(),
                  line(200, (48, "POLICY NUMBER"), size=7), line(210, (48, "LMI-BP-7781299"), size=10))
    assert mapped.field_confidence["policy_number"] < ACCEPT


def test_an_additional_insured_is_not_a_rival_insured() -> None:
    mapped = _map(*letterhead("Lakeshore Mutual Insurance Company"), *_body(),
                  line(200, (48, "Additional Insured: First Federal Bank of Ohio")))
    assert mapped.record.insured_name == "Buckeye Tool & Die Co." and mapped.confidence >= ACCEPT


def test_an_insured_copy_stamp_is_not_an_insured() -> None:
    mapped = _map(*letterhead("Lakeshore Mutual Insurance Company"), line(20, (480, "INSURED COPY")), *_body())
    assert mapped.record.insured_name == "Buckeye Tool & Die Co." and mapped.confidence >= ACCEPT


def test_a_run_of_captions_with_values_in_columns_is_read() -> None:
    mapped = _map(*letterhead("Lakeshore Mutual Insurance Company"),
                  line(90, (48, "POLICY NUMBER EFFECTIVE DATE EXPIRATION DATE"), size=7),
                  line(100, (48, "LMI-7781234"), (113, "04/01/2026"), (180, "04/01/2027"), size=8),
                  *_body(140)[:1], *_body(140)[3:])
    r = mapped.record
    assert (r.policy_number, r.effective_date, r.expiration_date) == ("LMI-7781234", date(2026, 4, 1),
                                                                      date(2027, 4, 1))


def test_more_label_variants_are_read() -> None:
    mapped = _map(line(40, (48, "POLICY DECLARATIONS"), size=16),
                  line(80, (48, "Writing Company: Lakeshore Mutual Insurance Company")),
                  line(94, (48, "Applicant: Buckeye Tool & Die Co.")),
                  line(108, (48, "Policy Nbr: LMI-BP-7781234")),
                  line(122, (48, "Effective: 05-Jan-2026")), line(136, (48, "Expiry: 05-Jan-2027")),
                  line(150, (48, "Estimated Annual Premium: $2,150.00")),
                  line(164, (48, f"Mailing Address: {ADDRESS}")))
    r = mapped.record
    assert (r.carrier_name, r.insured_name, r.policy_number) == (
        "Lakeshore Mutual Insurance Company", "Buckeye Tool & Die Co.", "LMI-BP-7781234")
    assert (r.effective_date, r.expiration_date, r.total_premium) == (
        date(2026, 1, 5), date(2027, 1, 5), Decimal("2150.00"))
    assert mapped.confidence >= ACCEPT
