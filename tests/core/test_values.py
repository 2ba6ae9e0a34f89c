from datetime import date
from decimal import Decimal

import pytest

from policy_ray.core.values import (
    clean_policy_number,
    detect_currency,
    find_dates,
    is_none_marker,
    numeric_date_order,
    parse_date,
    parse_money,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01/15/2026", date(2026, 1, 15)),
        ("2026-04-01", date(2026, 4, 1)),
        ("March 3, 2026", date(2026, 3, 3)),
        ("Sept. 30, 2027", date(2027, 9, 30)),
        ("3 March 2026", date(2026, 3, 3)),
        ("12/31/26", date(2026, 12, 31)),
        ("15.01.2026", date(2026, 1, 15)),
    ],
)
def test_parse_date_formats(text: str, expected: date) -> None:
    parsed = parse_date(text)
    assert parsed is not None and parsed.value == expected


@pytest.mark.parametrize(
    "text", ["13/45/2026", "02/30/2026", "1899-01-01", "MM/DD/YYYY", "", "01/02/2026 and 01/03/2026"]
)
def test_parse_date_refuses_invalid_or_ambiguous(text: str) -> None:
    assert parse_date(text) is None


def test_find_dates_in_a_period() -> None:
    dates = find_dates("From 01/15/2026 to 01/15/2027 12:01 A.M. Standard Time")
    assert [d.value for d in dates] == [date(2026, 1, 15), date(2027, 1, 15)]


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("$12,345.00", Decimal("12345.00"), None),  # a bare "$" states no currency: whose dollar?
        ("USD 1,234.50", Decimal("1234.50"), "USD"),
        ("5,000", Decimal("5000.00"), None),
        ("$ 1,000,000", Decimal("1000000.00"), None),
        ("(250.00)", Decimal("-250.00"), None),
        ("€ 900", Decimal("900.00"), "EUR"),
    ],
)
def test_parse_money(text: str, amount: Decimal, currency: str | None) -> None:
    money = parse_money(text)
    assert money is not None
    assert money.amount == amount and money.currency == currency


@pytest.mark.parametrize("text", ["", "abc", "$1,000 $2,000", "10%", "12/31/2026"])
def test_parse_money_refuses(text: str) -> None:
    assert parse_money(text) is None


def test_none_markers() -> None:
    assert all(is_none_marker(t) for t in ["N/A", "None", "included", "-"])
    assert not is_none_marker("1,000")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("HMI-CPP-4839201", "HMI-CPP-4839201"), ("crc 20-558813", "CRC 20-558813"), ("NGA/PK/0047719", "NGA/PK/0047719")],
)
def test_policy_numbers(text: str, expected: str) -> None:
    assert clean_policy_number(text) == expected


@pytest.mark.parametrize(
    "text", ["See schedule", "01/15/2026", "(555) 123-4567", "AB", "12", "This policy is issued by us"]
)
def test_not_policy_numbers(text: str) -> None:
    assert clean_policy_number(text) is None


def test_detect_currency() -> None:
    assert detect_currency("Premium $1,200") == "USD"
    assert detect_currency("Premium USD 1,200") == "USD"
    assert detect_currency("no amounts here") is None


def test_name_casing_flags_ocr_style_misreads() -> None:
    from policy_ray.core.confidence import name_casing

    assert name_casing("lronbark Florist LLC") < 1.0
    assert name_casing("Ironbark Florist LLC") == 1.0
    assert name_casing("House of Bread and Butter") == 1.0
    assert name_casing("ACME") == 1.0


def test_numeric_dates_follow_the_order_the_document_uses() -> None:
    assert [d.value for d in find_dates("05/06/2026", day_first=False)] == [date(2026, 5, 6)]
    assert [d.value for d in find_dates("05/06/2026", day_first=True)] == [date(2026, 6, 5)]
    # A known order is strict: a date that contradicts it is not read at all.
    assert find_dates("25/06/2026", day_first=False) == []
    unknown = find_dates("05/06/2026 and 25/06/2026 and 07/07/2026", day_first=None)
    assert [d.value for d in unknown] == [date(2026, 5, 6), date(2026, 6, 25), date(2026, 7, 7)]
    assert [d.order_assumed for d in unknown] == [True, False, False]
    assert unknown[0].quality < 0.85 <= unknown[1].quality


def test_a_documents_date_order_comes_from_its_dates_then_its_currency() -> None:
    assert numeric_date_order("Issued 25/06/2026; term 05/06/2026 - 05/06/2027", None) is True
    assert numeric_date_order("Issued 06/25/2026", "GBP") is False
    assert numeric_date_order("25/06/2026 and 06/25/2026", "USD") is None  # both orders: nothing settled
    assert numeric_date_order("05/06/2026", "USD") is False
    assert numeric_date_order("05/06/2026", "GBP") is True
    assert numeric_date_order("05/06/2026", None) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("05-Jan-2026", date(2026, 1, 5)),
        ("05JAN2026", date(2026, 1, 5)),
        ("2026/01/05", date(2026, 1, 5)),
        ("2026.01.05", date(2026, 1, 5)),
        ("Jan-05-2026", date(2026, 1, 5)),
        ("January 5, 2026 12:01 AM", date(2026, 1, 5)),
        ("01/05/2026 12:01 A.M. Standard Time", date(2026, 1, 5)),
    ],
)
def test_more_date_spellings(text: str, expected: date) -> None:
    parsed = parse_date(text)
    assert parsed is not None and parsed.value == expected and not parsed.order_assumed


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("1 234,56 €", Decimal("1234.56"), "EUR"),
        ("1.234,56 EUR", Decimal("1234.56"), "EUR"),
        ("12,50 €", Decimal("12.50"), "EUR"),
        ("900 €", Decimal("900.00"), "EUR"),
        ("C$ 1,200.00", Decimal("1200.00"), "CAD"),
        ("A$950", Decimal("950.00"), "AUD"),
    ],
)
def test_money_written_other_ways(text: str, amount: Decimal, currency: str) -> None:
    money = parse_money(text)
    assert money is not None and (money.amount, money.currency) == (amount, currency)


@pytest.mark.parametrize("text", ["1 234", "1 234,5", "12,50", "1,234 567", "1.234.567,891"])
def test_a_number_cut_out_of_a_longer_one_is_refused(text: str) -> None:
    assert parse_money(text) is None  # never 1.00 from "1 234,56"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("CPP0042117 NEW", "CPP0042117"), ("CPP0042117 Renewal", "CPP0042117"), ("GL 2026 831", "GL 2026 831"),
     ("WC 12-7654321", "WC 12-7654321")],
)
def test_status_words_after_a_policy_number_are_not_part_of_it(text: str, expected: str) -> None:
    assert clean_policy_number(text) == expected


@pytest.mark.parametrize(
    "text", ["2026", "WC 2026", "1234", "IL 12 01", "CG 00 01 04 13", "CPP0042117 Schedule", "Y Y QS-BA-9513358"]
)
def test_years_form_codes_and_fragments_are_not_policy_numbers(text: str) -> None:
    assert clean_policy_number(text) is None


def test_a_bare_dollar_sign_is_the_dollar_of_the_documents_country() -> None:
    from policy_ray.core.values import stated_currency

    assert detect_currency("Premium $1,200  Springfield, IL 62701") == "USD"
    assert detect_currency("Premium $1,200  Toronto, ON M5V 2T6") == "CAD"
    assert detect_currency("Premium $1,200  Sydney NSW 2000") == "AUD"
    assert detect_currency("Premium $1,200  Toronto, ON M5V 2T6 / Buffalo, NY 14201") is None
    assert stated_currency("Premium $1,200") is None


def test_a_dollar_sign_alone_does_not_establish_the_date_order() -> None:
    # The US writes 05/01/2026 for 1 May; Australia for 5 January; Canada both ways.
    assert numeric_date_order("05/01/2026  $500", None) is None
    assert numeric_date_order("05/01/2026  $500  Dayton, OH 45402", None, frozenset({"US"})) is False
    assert numeric_date_order("05/01/2026  $500  Perth WA 6000", None, frozenset({"AU"})) is True
    assert numeric_date_order("05/01/2026  $500  Ottawa, ON K1A 0B1", None, frozenset({"CA"})) is None


@pytest.mark.parametrize(
    "text",
    ["LMI-BP-778123044/01/2026", "LMI-BP-7781234-04/01/2026", "LMI77812304/01/26", "ABC123405JAN2026",
     "ABC2026-04-01", "LMI-BP-7781234$2,150.00", "CPP00421172150.00", "GL 1234 44/01/2026"],
)
def test_a_date_or_amount_glued_to_a_policy_number_is_refused(text: str) -> None:
    # Overlapping print: nothing says where the number ends, and the overlap may have eaten characters.
    assert clean_policy_number(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("CPP 0042 1177 04/01/2026", "CPP 0042 1177"), ("CPP 0042 1177 - 04/01/2026", "CPP 0042 1177"),
     ("LMI-BP-7781234 $2,150.00", "LMI-BP-7781234"), ("ABC1234 05-Jan-2026", "ABC1234"),
     ("CPP0042117 2150.00", "CPP0042117"), ("01.234.567.89", "01.234.567.89"), ("BWS-26-00123-A", "BWS-26-00123-A")],
)
def test_a_date_or_amount_after_a_space_is_the_next_columns_value(text: str, expected: str) -> None:
    assert clean_policy_number(text) == expected
