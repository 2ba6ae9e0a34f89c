"""Choosing between pdfplumber's and camelot's copies of a ruled table, region by region, by the evidence
each copy carries; pdfplumber on a tie, never both copies of one table."""

from __future__ import annotations

from policy_ray.config import Settings, load_pipeline_data
from policy_ray.core.models import Table
from policy_ray.core.table_choice import choose_tables, regions, table_quality

COLUMNS = load_pipeline_data(Settings()).mapping.columns
HEADER = ("Coverage", "Limit", "Deductible", "Premium")
ROWS = (HEADER, ("Building", "$500,000", "$1,000", "$1,200.00"), ("Total Premium", "", "", "$1,200.00"))
BOX = (48.0, 192.0, 564.0, 282.0)
LOWER = (48.0, 400.0, 564.0, 480.0)


def _table(source: str, *, score: float = 1.0, rows: tuple[tuple[str, ...], ...] = ROWS, page: int = 1,
           bbox: tuple[float, float, float, float] | None = BOX) -> Table:
    return Table(page=page, rows=rows, source=source, score=score, bbox=bbox)


def test_equal_copies_are_read_from_pdfplumber() -> None:
    assert [t.source for t in choose_tables([_table("camelot"), _table("pdfplumber")], COLUMNS)] == ["pdfplumber"]


def test_camelot_is_read_where_its_copy_scores_better() -> None:
    chosen = choose_tables([_table("pdfplumber", score=0.95), _table("camelot", score=0.99)], COLUMNS)
    assert [t.source for t in chosen] == ["camelot"]


def test_a_copy_with_empty_columns_and_no_header_loses_whatever_its_extractor_says() -> None:
    merged = tuple((" ".join(c for c in row if c), "", "", "") for row in ROWS)  # rules missed: one column
    assert table_quality(_table("camelot", rows=merged), COLUMNS) < table_quality(_table("pdfplumber"), COLUMNS)
    assert [t.source for t in choose_tables([_table("camelot", rows=merged), _table("pdfplumber")], COLUMNS)] == [
        "pdfplumber"]


def test_amounts_stacked_in_one_cell_mean_a_missed_rule_between_rows() -> None:
    stacked = (HEADER, ("Building\nContents", "$500,000\n$100,000", "$1,000\n$500", "$1,200.00\n$300.00"))
    apart = (HEADER, ("Building", "$500,000", "$1,000", "$1,200.00"), ("Contents", "$100,000", "$500", "$300.00"))
    assert table_quality(_table("pdfplumber", rows=stacked), COLUMNS) < table_quality(_table("camelot", rows=apart),
                                                                                      COLUMNS)
    chosen = choose_tables([_table("pdfplumber", rows=stacked), _table("camelot", rows=apart)], COLUMNS)
    assert [t.source for t in chosen] == ["camelot"]


def test_each_region_is_chosen_on_its_own() -> None:
    tables = [_table("pdfplumber", score=0.9), _table("camelot"),
              _table("pdfplumber", bbox=LOWER), _table("camelot", bbox=LOWER, score=0.8),
              _table("camelot", page=2), _table("pdfplumber", page=2, score=0.5)]
    assert len(regions(tables)) == 3
    chosen = choose_tables(tables, COLUMNS)
    assert [(t.page, t.bbox, t.source) for t in chosen] == [(1, BOX, "camelot"), (1, LOWER, "pdfplumber"),
                                                            (2, BOX, "camelot")]


def test_without_boxes_the_page_is_the_region() -> None:
    # Payloads recorded before tables had boxes: one engine's tables per page.
    tables = [_table("pdfplumber", bbox=None), _table("camelot", bbox=None), _table("camelot", bbox=None)]
    assert [t.source for t in choose_tables(tables, COLUMNS)] == ["pdfplumber"]
