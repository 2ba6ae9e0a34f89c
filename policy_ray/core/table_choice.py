"""Which extractor's copy of a ruled table to read: pdfplumber's or camelot's, region by region.

Both engines read the same rulings and usually agree. Where they do not, each copy is judged from its
evidence: how well the text fits the cells (the extractor's score: words cut by a border, camelot's
accuracy), how much of the grid is empty (a rule the engine missed leaves a column of merged text and
empty cells), whether cells hold amounts stacked on two lines (a missing rule between two rows), and
whether a schedule header is recognized. pdfplumber is the default; camelot's copy is read where it
scores better. Never both: two copies of one table would double its rows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from statistics import mean

from policy_ray.core.coverage_cells import has_header
from policy_ray.core.coverage_table import ColumnKeywords
from policy_ray.core.models import Table

DEFAULT_ENGINE = "pdfplumber"
NO_HEADER = 0.6  # a copy whose first rows read as no schedule header
SAME_REGION = 0.5  # boxes overlapping by this share of the smaller one are one table
_AMOUNT = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d{2})?|\d+\.\d{2}")


def table_quality(table: Table, keywords: ColumnKeywords) -> float:
    """How far this copy of a table can be trusted, in [0, 1]."""
    cells = [c for row in table.rows for c in row]
    if not cells:
        return 0.0
    filled = [c for c in cells if c.strip()]
    fill = len(filled) / len(cells)
    stacked = sum(1 for c in filled if len(_AMOUNT.findall(c)) >= 2 and "\n" in c.strip()) / max(len(filled), 1)
    header = 1.0 if has_header(table.rows[:3], keywords) else NO_HEADER
    return round(table.score * (0.5 + 0.5 * fill) * (1.0 - stacked) * header, 4)


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over the smaller box's area."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / smaller if smaller > 0 else 0.0


def _same_region(a: Table, b: Table) -> bool:
    if a.page != b.page:
        return False
    if a.bbox is None or b.bbox is None:
        return True  # no boxes (payloads from before they were recorded): the page is the region
    return _overlap(a.bbox, b.bbox) >= SAME_REGION


def regions(tables: Sequence[Table]) -> list[list[Table]]:
    """Tables grouped by the place on the page they cover, in reading order."""
    groups: list[list[Table]] = []
    for table in tables:
        joined = [g for g in groups if any(_same_region(table, t) for t in g)]
        merged = [table, *(t for g in joined for t in g)]
        groups = [g for g in groups if g not in joined] + [merged]
    key = _reading_order
    return sorted((sorted(g, key=key) for g in groups), key=lambda g: key(g[0]))


def _reading_order(t: Table) -> tuple[int, float]:
    return t.page, t.bbox[1] if t.bbox is not None else 0.0


def choose_tables(tables: Sequence[Table], keywords: ColumnKeywords) -> list[Table]:
    """One engine's copy of each table region, in reading order: the better-scoring engine's, the default
    engine's on a tie."""
    chosen: list[Table] = []
    for region in regions(tables):
        engines = sorted({t.source for t in region})
        score = {e: mean(table_quality(t, keywords) for t in region if t.source == e) for e in engines}
        best = max(engines, key=lambda e: (score[e], e == DEFAULT_ENGINE))
        chosen.extend(t for t in region if t.source == best)
    return sorted(chosen, key=_reading_order)
