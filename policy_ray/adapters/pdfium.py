"""pypdfium2: opening, page counting and the cheap plain-text pass used for triage."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pypdfium2 as pdfium

from policy_ray.core.margins import in_band as margin_band
from policy_ray.core.margins import margin_page
from policy_ray.core.models import Page
from policy_ray.errors import FailureCategory, PolicyRayError

STAGE = "preflight"


def classify_open_error(message: str) -> FailureCategory:
    folded = message.casefold()
    if "password" in folded or "security" in folded:
        return FailureCategory.ENCRYPTED
    if "success" in folded:
        # pdfium refuses a document with an empty page tree and reports the error code as "Success".
        return FailureCategory.ZERO_PAGES
    return FailureCategory.MALFORMED_PDF


@contextmanager
def open_pdf(data: bytes, *, max_pages: int) -> Iterator[pdfium.PdfDocument]:
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        category = classify_open_error(str(exc))
        raise PolicyRayError(category, f"pdfium could not open the file: {exc}", stage=STAGE) from exc
    try:
        count = len(pdf)
        if count == 0:
            raise PolicyRayError(FailureCategory.ZERO_PAGES, "the document has no pages", stage=STAGE)
        if count > max_pages:
            raise PolicyRayError(FailureCategory.PAGE_LIMIT_EXCEEDED,
                                 f"{count} pages exceeds the limit of {max_pages}", stage=STAGE)
        yield pdf
    finally:
        pdf.close()


@contextmanager
def _text_page(pdf: pdfium.PdfDocument, index: int) -> Iterator[tuple[pdfium.PdfPage, pdfium.PdfTextPage]]:
    """One page and its text layer, both closed after use; a page pdfium cannot read is a malformed PDF."""
    page = pdf[index]
    try:
        textpage = page.get_textpage()
        try:
            yield page, textpage
        finally:
            textpage.close()
    except pdfium.PdfiumError as exc:
        raise PolicyRayError(FailureCategory.MALFORMED_PDF, f"unreadable page: {exc}", stage="triage",
                             page=index + 1) from exc
    finally:
        page.close()


def page_texts(pdf: pdfium.PdfDocument) -> list[str]:
    """Plain text of every page (about 1-3 ms a page): enough to triage and to see a text layer."""
    texts: list[str] = []
    for index in range(len(pdf)):
        with _text_page(pdf, index) as (_, textpage):
            texts.append(textpage.get_text_range())
    return texts


def page_margins(pdf: pdfium.PdfDocument, indexes: Sequence[int]) -> list[Page]:
    """The running header and footer of the given 0-based pages: pdfium's runs of text near the top and
    bottom edge (core/margins.py bounds them), in points from the page's top left. Cheap: pdfium finds the
    runs; only those near an edge are read."""
    pages: list[Page] = []
    for index in indexes:
        with _text_page(pdf, index) as (page, textpage):
            width, height = page.get_size()
            runs = []
            for k in range(textpage.count_rects()):
                left, bottom, right, top = textpage.get_rect(k)
                if margin_band(height - top, height - bottom, height):
                    runs.append((textpage.get_text_bounded(left, bottom, right, top), left, height - top, right,
                                 height - bottom))
        pages.append(margin_page(index + 1, float(width), float(height), runs))
    return pages
