"""Coverage schedules from the cell grids table extractors find (pdfplumber, camelot): the header row,
the rows under it, continued across tables with the same header, up to the total."""

from __future__ import annotations

import re
from collections.abc import Sequence

from policy_ray.core.coverage_table import (
    NUMERIC_KINDS,
    SKIP,
    ColumnKeywords,
    TableResult,
    is_charge,
    names_split,
    parse_cell,
    row_from_cells,
    total_type,
    word_tokens,
    words_only,
)
from policy_ray.core.models import Table
from policy_ray.core.values import parse_money


def parse_table_from_cells(tables: Sequence[Table], keywords: ColumnKeywords) -> TableResult | None:
    """Coverage rows from extractor-found grids, continuing across tables with the same header."""
    result: TableResult | None = None
    columns: dict[int, str] | None = None
    for table in tables:
        rows = [tuple(c or "" for c in r) for r in table.rows]
        start = 0
        for i, row in enumerate(rows[:3]):
            cols = _header_from_cells(row, keywords)
            if cols:
                columns, start = cols, i + 1
                if result is None:
                    result = TableResult(source=table.source)
                result.split_named = result.split_named or any(names_split(c, keywords) for c in row)
                break
        else:
            if result is None:
                continue
        assert columns is not None and result is not None
        for row in rows[start:]:
            if not result.rows and any(names_split(c, keywords) for c in row) and not any(map(parse_money, row)):
                result.split_named = True  # a caption row under the header: "Each Occurrence / Aggregate"
                continue
            name = " ".join(row[i] for i, k in columns.items() if k == "name")
            texts = {k: re.sub(r"\s+", " ", row[i]) for i, k in columns.items() if k != "name" and i < len(row)}
            total_kind = total_type(name, keywords)
            if total_kind is not None or is_charge(name, keywords):
                amount, quality, _ = parse_cell(texts.get("premium", "") or next(
                    (t for t in reversed(row) if t.strip()), ""))
                if total_kind is None:
                    if amount is not None:
                        result.charges.append(amount)
                    continue
                if total_kind == "due":
                    result.due = amount
                else:
                    result.total, result.total_quality = amount, quality * table.score
                return result
            named = result.split_named or names_split(words_only(" ".join(row)), keywords)
            parsed = row_from_cells(name, texts, table.page, table.score, keywords, named)
            if parsed:
                result.rows.append(parsed)
                result.pages.add(table.page)
    return result if result and result.rows else None


def has_header(rows: Sequence[Sequence[str]], keywords: ColumnKeywords) -> bool:
    """Whether one of these grid rows is a coverage schedule's header."""
    return any(_header_from_cells(tuple(c or "" for c in row), keywords) for row in rows)


def _header_from_cells(row: Sequence[str], keywords: ColumnKeywords) -> dict[int, str] | None:
    columns: dict[int, str] = {}
    for i, cell in enumerate(row):
        folded = _without_split(cell, keywords)
        for kind, phrases in keywords.kinds().items():
            if kind not in columns.values() and any(folded == " ".join(word_tokens(p)) for p in phrases):
                columns[i] = kind
                break
        else:
            if any(folded == " ".join(word_tokens(p)) for p in keywords.extra_columns):
                columns[i] = SKIP
    kinds = set(columns.values())
    return columns if "name" in kinds and len(kinds & set(NUMERIC_KINDS)) >= 2 else None


def _without_split(cell: str, keywords: ColumnKeywords) -> str:
    """A header cell without the caption of a split limit: "Limits (Each Occurrence / Aggregate)" -> "Limits"."""
    words = f" {' '.join(word_tokens(cell))} "
    for phrase in keywords.split_limit:
        words = words.replace(f" {' '.join(word_tokens(phrase))} ", " ")
    return words.strip()
