"""Amounts OCR damaged in a coverage schedule: a stray period after an amount ("USD 2,500.") is read and
lowers the coverages' confidence; an amount that reads as none ("2,5O0") keeps the coverages from being
stored at all, since the row would lack a value the page shows. Percentages are no damaged amounts."""

from __future__ import annotations

from decimal import Decimal

from policy_ray.config import Settings, load_pipeline_data
from policy_ray.core.confidence import REPAIRED_COVERAGE
from policy_ray.core.coverage_table import parse_table_from_lines
from policy_ray.core.coverage_text import unread_amount
from policy_ray.core.mapping import map_document
from tests.core.words import line, lines_of, two_line_schedule

DATA = load_pipeline_data(Settings())
KEEP = DATA.matrix.thresholds.field_keep


def _mapped(deductible: str) -> tuple[list[tuple[str, Decimal | None]], float]:
    mapped = map_document(two_line_schedule(("Crime - Employee Theft", "$150,000", deductible, "$881.19"), "$2,081.19"),
                          DATA.mapping)
    return [(c.name, c.deductible) for c in mapped.record.coverages], mapped.field_confidence["coverages"]


def test_a_stray_period_after_an_amount_is_read_and_lowers_the_confidence() -> None:
    clean, clean_conf = _mapped("USD 2,500")
    repaired, repaired_conf = _mapped("USD 2,500.")
    assert clean == repaired and repaired[1] == ("Crime - Employee Theft", Decimal("2500.00"))
    assert clean_conf == 0.97 and repaired_conf == round(0.97 * REPAIRED_COVERAGE, 4)


def test_an_amount_that_reads_as_none_keeps_the_coverages_out() -> None:
    coverages, confidence = _mapped("$2,5O0")
    assert coverages[1] == ("Crime - Employee Theft", None)
    assert confidence < KEEP  # stored as null: the deductible the page shows is missing


def test_percentages_and_words_are_no_damaged_amounts() -> None:
    assert all(not unread_amount(t) for t in ("80%", "2% of TIV", "12 months", "N/A", "$1,000", "Included"))
    assert all(unread_amount(t) for t in ("2,5O0", "S2,500", "$l,000"))
    table = parse_table_from_lines([lines_of(
        line(100, (48, "Coverage"), (250, "Limit"), (330, "Coinsurance"), (420, "Deductible"), (500, "Premium")),
        line(114, (48, "Building"), (250, "$500,000"), (330, "80%"), (420, "2% of TIV"), (500, "$1,200.00")),
    )], DATA.mapping.columns)
    assert table is not None and not table.rows[0].unread and table.rows[0].coverage.deductible is None
