"""pypdfium2: opening, page counting and the cheap plain-text pass used for triage."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pypdfium2 as pdfium

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


def page_texts(pdf: pdfium.PdfDocument) -> list[str]:
    """Plain text of every page (about 1-3 ms a page): enough to triage and to see a text layer."""
    texts: list[str] = []
    for index in range(len(pdf)):
        page = pdf[index]
        try:
            textpage = page.get_textpage()
            try:
                texts.append(textpage.get_text_range())
            finally:
                textpage.close()
        except pdfium.PdfiumError as exc:
            raise PolicyRayError(FailureCategory.MALFORMED_PDF, f"unreadable page: {exc}", stage="triage",
                                 page=index + 1) from exc
        finally:
            page.close()
    return texts
