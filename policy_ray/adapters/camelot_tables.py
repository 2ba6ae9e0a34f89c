"""camelot: lattice tables read from the PDF's vector rulings, scored by camelot's parsing_report."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from policy_ray.core.models import Table

# camelot logs a warning per page without tables, and its library logging was seen to slow a hang.
logging.getLogger("camelot").setLevel(logging.ERROR)


def lattice_tables(data: bytes, page_numbers: Sequence[int]) -> list[Table]:
    """Ruled tables on the given 1-based pages; an empty list when camelot finds none or fails."""
    if not page_numbers:
        return []
    import camelot  # imported lazily: it pulls OpenCV, which an OCR-only worker does not need

    try:
        found = camelot.read_pdf(data, pages=",".join(str(p) for p in page_numbers), flavor="lattice",
                                 engine="vector", suppress_stdout=True)
    except MemoryError:
        raise
    except Exception:  # camelot is a second opinion: its failure must not fail the document
        return []
    tables: list[Table] = []
    for t in found:
        report = t.parsing_report
        rows = tuple(tuple(str(c).strip() for c in row) for row in t.df.itertuples(index=False))
        if len(rows) >= 2:
            # accuracy: how much of the text fell wholly inside one cell (camelot's own measure). How
            # empty the grid is, and whether it reads as a schedule, the mapping judges from the rows.
            tables.append(Table(page=int(report.get("page", 0)), rows=rows, source="camelot",
                                score=round(min(1.0, float(report.get("accuracy", 0.0)) / 100.0), 4),
                                bbox=_bbox(t)))
    return tables


def _bbox(table: Any) -> tuple[float, float, float, float] | None:
    """The table's box from its column and row bounds, top-left origin like pdfplumber's (camelot's
    coordinates start at the bottom of the page)."""
    try:
        cols, rows = table.cols, table.rows
        height = float(table.pdf_size[1])
        x0, x1 = float(cols[0][0]), float(cols[-1][1])
        top, bottom = height - float(rows[0][0]), height - float(rows[-1][1])
    except (AttributeError, IndexError, TypeError, ValueError):
        return None
    return round(x0, 2), round(top, 2), round(x1, 2), round(bottom, 2)
