"""camelot: lattice tables read from the PDF's vector rulings, scored by camelot's parsing_report."""

from __future__ import annotations

import logging
from collections.abc import Sequence

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
            tables.append(Table(page=int(report.get("page", 0)), rows=rows, source="camelot",
                                score=round(float(report.get("accuracy", 0.0)) / 100.0, 4)))
    return tables
