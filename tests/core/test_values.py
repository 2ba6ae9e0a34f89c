from datetime import date
from decimal import Decimal

import pytest

from policy_ray.core.values import (
    clean_name,
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
        ("$12,345.00", Decimal("12345.00"), "USD"),
        ("USD 1,234.50", Decimal("1234.50"), "USD"),
        ("5,000", Decimal("5000.00"), None),
        ("$ 1,000,000", Decimal("1000000.00"), "USD"),
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


def test_names() -> None:
    assert clean_name(" Acme Widget Co., LLC ") == "Acme Widget Co., LLC"
    assert clean_name("Named Insured") is None
    assert clean_name("01/01/2026") is None


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
