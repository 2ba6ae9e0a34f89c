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
    tables: tuple[Table, ...] = ()
    if with_tables and (len(page.lines) + len(page.rects)) >= 4:
        tables = tuple(
            Table(page=index + 1, rows=tuple(tuple((c or "").strip() for c in row) for row in grid),
                  source="pdfplumber", score=0.9)
            for grid in page.extract_tables(TABLE_SETTINGS)
            if grid and len(grid) >= 2
        )
    return Page(number=index + 1, width=float(page.width), height=float(page.height), words=words,
                tables=tables, has_text_layer=bool(words))
