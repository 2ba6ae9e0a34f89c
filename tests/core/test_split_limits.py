"""Split limits ("$1,000,000 / $2,000,000": each occurrence, then aggregate): the coverage's one `limit` is
the first amount; the coverages keep full confidence only where the header, a caption under it, the row or
the cell says which amount is which."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from policy_ray.config import Settings, load_pipeline_data
from policy_ray.core.confidence import UNNAMED_SPLIT_LIMIT
from policy_ray.core.coverage_cells import parse_table_from_cells
from policy_ray.core.coverage_table import TableResult, parse_table_from_lines
from policy_ray.core.mapping import map_document
from policy_ray.core.models import Table, Word
from tests.core.words import doc, letterhead, line, lines_of

DATA = load_pipeline_data(Settings())
COLUMNS = DATA.mapping.columns
XS = (48, 300, 420, 520)
MILLION, TWO_MILLION = Decimal("1000000.00"), Decimal("2000000.00")


def _lines(header: tuple[str, ...], rows: Sequence[tuple[str, ...]], *, caption: str | None = None) -> list[list[Word]]:
    out = [line(100, *zip(XS, header, strict=True))]
    y = 100.0
    if caption is not None:
        y += 12
        out.append(line(y, (XS[1], caption), size=7))
    for row in rows:
        y += 14
        out.append(line(y, *((x, text) for x, text in zip(XS, row, strict=True) if text)))
    return out


def _words(header: tuple[str, ...], rows: Sequence[tuple[str, ...]], *, caption: str | None = None) -> TableResult:
    table = parse_table_from_lines([lines_of(*_lines(header, rows, caption=caption))], COLUMNS)
    assert table is not None
    return table


HEADER = ("Coverage", "Limits", "Deductible", "Premium")
ROWS = [("General Liability", "$1,000,000 / $2,000,000", "$1,000", "$1,000.00"),
        ("Hired Auto", "$1,000,000", "", "$150.00")]


def test_the_limit_is_the_first_amount_and_the_row_says_it_was_split() -> None:
    table = _words(HEADER, ROWS)
    gl, auto = table.rows
    assert (gl.coverage.limit, gl.coverage.deductible, gl.coverage.premium) == (MILLION, Decimal("1000.00"),
                                                                                Decimal("1000.00"))
    assert (gl.split_limit, auto.split_limit) == ("unnamed", "")


def test_two_amounts_in_one_word_are_a_split_limit_not_a_missing_one() -> None:
    table = _words(HEADER, [("General Liability", "1,000,000/2,000,000", "1,000", "1,000.00")])
    assert table.rows[0].coverage.limit == MILLION and table.rows[0].split_limit == "unnamed"


def test_a_header_a_caption_a_row_or_the_cell_may_name_the_split() -> None:
    by_header = _words(("Coverage", "Limits (Each Occurrence / Aggregate)", "Deductible", "Premium"), ROWS)
    by_caption = _words(HEADER, ROWS, caption="Each Occurrence / Aggregate")
    by_row = _words(HEADER, [("General Liability - Each Occurrence / Aggregate", *ROWS[0][1:])])
    by_cell = _words(HEADER, [("General Liability", "$1,000,000 per occurrence / $2,000,000 aggregate", "$1,000",
                               "$1,000.00")])
    for table in (by_header, by_caption, by_row, by_cell):
        assert table.rows[0].coverage.limit == MILLION and table.rows[0].split_limit == "named"


def test_shorthand_thousands_are_no_split_limit() -> None:
    # "100/300" may be thousands, a ratio or a date: no amount is read from it.
    table = _words(HEADER, [("Bodily Injury", "100/300", "", "$400.00")])
    assert table.rows[0].coverage.limit is None and table.rows[0].split_limit == ""


def test_cell_grids_read_split_limits_the_same_way() -> None:
    grid = Table(page=1, source="pdfplumber", score=1.0, rows=(
        ("Coverage", "Limits (Each Occurrence / Aggregate)", "Deductible", "Premium"),
        ("General Liability", "$1,000,000 / $2,000,000", "$1,000", "$1,000.00")))
    named = parse_table_from_cells([grid], COLUMNS)
    assert named is not None and named.rows[0].coverage.limit == MILLION and named.rows[0].split_limit == "named"
    plain = Table(page=1, source="camelot", score=1.0, rows=(HEADER, ("General Liability", "1,000,000/2,000,000",
                                                                        "1,000", "1,000.00")))
    unnamed = parse_table_from_cells([plain], COLUMNS)
    assert unnamed is not None and unnamed.rows[0].split_limit == "unnamed"


def _mapped(header: tuple[str, ...]) -> tuple[float, tuple[Decimal | None, ...]]:
    rows = [*ROWS, ("Total Premium", "", "", "$1,150.00")]
    mapped = map_document(doc(*letterhead("Acme Shield Insurance Company"),
                              line(70, (48, "Policy No.: ASI-77-1234567")),
                              line(84, (48, "Named Insured: Quill & Ladder Bakery LLC")),
                              line(98, (48, "Policy Period: 03/15/2026 to 03/15/2027")),
                              *[[Word(w.text, w.x0, w.top + 60, w.x1, w.bottom + 60) for w in ln]
                                for ln in _lines(header, rows)]), DATA.mapping)
    return mapped.field_confidence["coverages"], tuple(c.limit for c in mapped.record.coverages)


def test_premiums_that_add_up_do_not_vouch_for_an_unnamed_split() -> None:
    unnamed, limits = _mapped(HEADER)
    named, same = _mapped(("Coverage", "Limits (Each Occurrence / Aggregate)", "Deductible", "Premium"))
    assert limits == same == (MILLION, MILLION)
    assert named == 0.97 and unnamed == round(0.97 * UNNAMED_SPLIT_LIMIT, 4)
    assert unnamed < DATA.matrix.thresholds.accept
