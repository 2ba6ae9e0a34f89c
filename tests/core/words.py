"""Small word layouts for mapping tests: lines of words placed as a PDF text layer would place them."""

from __future__ import annotations

from policy_ray.core.layout import Line, group_lines
from policy_ray.core.models import Page, RawExtraction, Word


def line(y: float, *cells: tuple[float, str], size: float = 9.0) -> list[Word]:
    """Words of one printed line: each cell starts at its x; words are spaced like ordinary text."""
    words: list[Word] = []
    for x, text in cells:
        cursor = x
        for token in text.split():
            width = len(token) * size * 0.5
            words.append(Word(token, cursor, y, cursor + width, y + size))
            cursor += width + size * 0.28
    return words


def doc(*lines: list[Word], page_height: float = 792.0) -> RawExtraction:
    words = tuple(w for ln in lines for w in ln)
    return RawExtraction(doc_sha256="0" * 64, page_count=1, pages=(Page(1, 612, page_height, words),))


def lines_of(*lines: list[Word]) -> list[Line]:
    return group_lines([w for ln in lines for w in ln], 1)


def letterhead(name: str, address: str = "100 Main Street, Springfield, IL 62701") -> list[list[Word]]:
    """An insurer's letterhead: its name, and its NAIC code and address under it."""
    return [line(40, (48, name), size=18), line(62, (48, f"NAIC #12345   {address}"), size=8)]


def two_line_schedule(second: tuple[str, str, str, str], total: str) -> RawExtraction:
    """A one-page declarations of a letterhead carrier with a ruled-free schedule: a Building line
    ($500,000 / $1,000 / $1,200.00), then `second` (name, limit, deductible, premium), then the total."""
    name, limit, deductible, premium = second
    return doc(
        *letterhead("Acme Shield Insurance Company"),
        line(90, (48, "Policy No.: ASI-77-1234567")),
        line(104, (48, "Named Insured: Quill & Ladder Bakery LLC")),
        line(118, (48, "Policy Period: 03/15/2026 to 03/15/2027")),
        line(160, (48, "Coverage"), (300, "Limit"), (400, "Deductible"), (500, "Premium")),
        line(174, (48, "Building"), (300, "$500,000"), (400, "$1,000"), (500, "$1,200.00")),
        line(188, (48, name), (300, limit), (400, deductible), (500, premium)),
        line(202, (48, "Total Premium"), (500, total)),
    )
