"""Coverage schedules: fees and taxes are not coverages, "amount due" is not the premium, and columns
we do not read do not get in the way."""

from __future__ import annotations

from decimal import Decimal

from policy_ray.config import Settings, load_pipeline_data
from policy_ray.core.coverage_table import parse_table_from_lines
from policy_ray.core.models import Word
from tests.core.words import line, lines_of

COLUMNS = load_pipeline_data(Settings()).mapping.columns


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]], xs: tuple[float, ...] = (48, 300, 400, 500)):
    lines: list[list[Word]] = [line(100, *zip(xs, header, strict=True))]
    for i, row in enumerate(rows, start=1):
        lines.append(line(100 + 14 * i, *((x, text) for x, text in zip(xs, row, strict=True) if text)))
    return parse_table_from_lines([lines_of(*lines)], COLUMNS)


def test_fee_and_tax_rows_are_not_coverages_and_the_amount_due_is_not_the_premium() -> None:
    table = _table(("Coverage", "Limit", "Deductible", "Premium"), [
        ("General Liability", "$1,000,000", "$1,000", "$1,000.00"),
        ("Property", "$250,000", "$2,500", "$500.00"),
        ("Policy Fee", "", "", "$50.00"),
        ("State Surcharge", "", "", "$15.00"),
        ("Total Amount Due", "", "", "$1,565.00"),
    ])
    assert table is not None
    assert [r.coverage.name for r in table.rows] == ["General Liability", "Property"]
    assert table.charges == [Decimal("50.00"), Decimal("15.00")]
    assert (table.total, table.due) == (None, Decimal("1565.00"))


def test_a_premium_total_is_still_the_total() -> None:
    table = _table(("Coverage", "Limit", "Deductible", "Premium"), [
        ("Building", "$500,000", "$1,000", "$1,200.00"), ("Total Premium", "", "", "$1,200.00")])
    assert table is not None and table.total == Decimal("1200.00") and table.due is None


def test_location_and_coinsurance_columns_do_not_break_the_header() -> None:
    table = _table(("Loc", "Bldg", "Coverage", "Limit", "Coinsurance", "Deductible", "Premium"), [
        ("1", "1", "Building", "$500,000", "80%", "$1,000", "$1,200.00"),
        ("1", "1", "Business Personal Property", "$100,000", "90%", "$500", "$300.00"),
    ], xs=(30, 50, 80, 280, 350, 430, 520))
    assert table is not None
    assert [(r.coverage.name, r.coverage.limit, r.coverage.deductible, r.coverage.premium) for r in table.rows] == [
        ("Building", Decimal("500000.00"), Decimal("1000.00"), Decimal("1200.00")),
        ("Business Personal Property", Decimal("100000.00"), Decimal("500.00"), Decimal("300.00")),
    ]


def test_a_rate_column_with_numbers_is_skipped() -> None:
    table = _table(("Coverage", "Limit", "Rate", "Premium"), [("Building", "$500,000", "0.250", "$1,250.00")])
    assert table is not None
    row = table.rows[0].coverage
    assert (row.limit, row.deductible, row.premium) == (Decimal("500000.00"), None, Decimal("1250.00"))
