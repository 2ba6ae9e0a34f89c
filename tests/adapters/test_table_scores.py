"""Each table engine scores its own copy of a ruled table from evidence: pdfplumber by the words its cell
borders cut, camelot by its parsing_report accuracy; both give the table's box, so the mapping can tell
two copies of one table apart from two tables."""

from __future__ import annotations

from policy_ray.adapters import camelot_tables, pdfplumber_words
from policy_ray.core.models import Table
from tests.adapters.ruled import BREAKDOWN, OVERFLOWING, PLAIN, TOTAL, WRAPPED, schedule_pdf


def _tables(data: bytes) -> dict[str, Table]:
    pages = pdfplumber_words.extract_pages(data, [0], table_pages={0})
    found = [*pages[0].tables, *camelot_tables.lattice_tables(data, [1])]
    assert sorted(t.source for t in found) == ["camelot", "pdfplumber"]
    return {t.source: t for t in found}


def _same_box(a: Table, b: Table) -> bool:
    assert a.bbox is not None and b.bbox is not None
    return all(abs(p - q) < 2.0 for p, q in zip(a.bbox, b.bbox, strict=True))


def test_a_clean_table_scores_full_marks_in_both_engines() -> None:
    tables = _tables(schedule_pdf([WRAPPED, PLAIN, BREAKDOWN, TOTAL]))
    assert tables["pdfplumber"].score == tables["camelot"].score == 1.0
    assert _same_box(tables["pdfplumber"], tables["camelot"])


def test_a_name_cut_by_a_border_lowers_pdfplumbers_score_below_camelots() -> None:
    tables = _tables(schedule_pdf([WRAPPED, OVERFLOWING, BREAKDOWN, TOTAL]))
    plumber, camelot = tables["pdfplumber"], tables["camelot"]
    assert plumber.rows[2][0] == "Business Personal Property and Tenant Improvem"  # what pdfplumber reads
    assert plumber.score < camelot.score
    assert _same_box(plumber, camelot)


def test_short_inner_rules_leave_camelot_one_column() -> None:
    tables = _tables(schedule_pdf([WRAPPED, PLAIN, BREAKDOWN, TOTAL], short_rules=2.5))
    assert all(not cell for row in tables["camelot"].rows for cell in row[1:])  # its score cannot see this
    assert tables["pdfplumber"].rows[0] == ("Coverage", "Limit", "Deductible", "Premium")
