"""pdfplumber: positioned words and ruled-table grids, one page at a time, each page closed after use."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pdfplumber
from pdfminer.pdfdocument import PDFPasswordIncorrect
from pdfminer.pdfparser import PDFSyntaxError
from pdfplumber.utils.exceptions import PdfminerException

from policy_ray.core.models import Page, Table, Word
from policy_ray.errors import FailureCategory, PolicyRayError

STAGE = "words"
TABLE_SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines"}
EDGE_SLACK = 1.0  # points: a border this close to a word's edge touches it, it does not cut it


def extract_pages(data: bytes, page_indexes: Sequence[int], *, table_pages: set[int]) -> list[Page]:
    """Words (and, on `table_pages`, ruled tables) of the given 0-based pages."""
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except PDFPasswordIncorrect as exc:
        raise PolicyRayError(FailureCategory.ENCRYPTED, "a password is required", stage=STAGE) from exc
    except (PDFSyntaxError, PdfminerException, RecursionError, ValueError, KeyError, TypeError) as exc:
        raise PolicyRayError(FailureCategory.MALFORMED_PDF, f"pdfplumber could not parse: {exc}",
                             stage=STAGE) from exc
    pages: list[Page] = []
    try:
        for index in page_indexes:
            pages.append(_read_page_closed(pdf, index, index in table_pages))
    finally:
        pdf.close()
    return pages


def _read_page_closed(pdf: pdfplumber.PDF, index: int, with_tables: bool) -> Page:
    page = None
    try:
        page = pdf.pages[index]
        return _read_page(page, index, with_tables)
    except (MemoryError, PolicyRayError):
        raise
    except Exception as exc:  # pdfminer raises many types (and RecursionError) on broken files
        raise PolicyRayError(FailureCategory.MALFORMED_PDF, f"{type(exc).__name__}: {exc}"[:500], stage=STAGE,
                             page=index + 1) from exc
    finally:
        if page is not None:
            page.close()  # pdfplumber caches layout per page; closing is what keeps RSS flat


def _read_page(page: pdfplumber.page.Page, index: int, with_tables: bool) -> Page:
    words = tuple(
        Word(text=w["text"], x0=round(float(w["x0"]), 2), top=round(float(w["top"]), 2),
             x1=round(float(w["x1"]), 2), bottom=round(float(w["bottom"]), 2))
        for w in page.extract_words(keep_blank_chars=False, use_text_flow=False)
        if w["text"].strip()
    )
    tables: list[Table] = []
    if with_tables and (len(page.lines) + len(page.rects)) >= 4:
        for found in page.find_tables(TABLE_SETTINGS):
            grid = found.extract()
            if not grid or len(grid) < 2:
                continue
            x0, top, x1, bottom = (round(float(v), 2) for v in found.bbox)
            tables.append(Table(page=index + 1, rows=tuple(tuple((c or "").strip() for c in row) for row in grid),
                                source="pdfplumber", score=text_fit(found, words), bbox=(x0, top, x1, bottom)))
    return Page(number=index + 1, width=float(page.width), height=float(page.height), words=words,
                tables=tuple(tables), has_text_layer=bool(words))


def text_fit(table: pdfplumber.table.Table, words: Sequence[Word]) -> float:
    """Share of the words inside the table that no cell border cuts through (1.0: every word in one cell).

    pdfplumber gives each cell the characters inside it, so a word printed across a rule (a name that
    overflows into the next column) comes out in two pieces, in two cells: the table reads wrong there.
    camelot's parsing_report accuracy measures the same thing for its tables.
    """
    x0, top, x1, bottom = table.bbox
    inside = [w for w in words if x0 <= (w.x0 + w.x1) / 2 <= x1 and top <= (w.top + w.bottom) / 2 <= bottom]
    if not inside:
        return 1.0
    cells = list(table.cells)
    cut = 0
    for w in inside:
        # A cell border that runs through the word: a vertical one inside its width, in a cell beside it;
        # a horizontal one inside its height, in a cell above or below it.
        across = any(w.x0 + EDGE_SLACK < e < w.x1 - EDGE_SLACK for c in cells if c[1] < w.bottom and w.top < c[3]
                     for e in (c[0], c[2]))
        through = any(w.top + EDGE_SLACK < e < w.bottom - EDGE_SLACK for c in cells if c[0] < w.x1 and w.x0 < c[2]
                      for e in (c[1], c[3]))
        cut += across or through
    return round(1.0 - cut / len(inside), 4)
