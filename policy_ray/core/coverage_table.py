"""Coverage schedules: find the header (Coverage | Limit | Deductible | Premium), read the rows under
it, follow the table onto the next page, and stop at its total.

Two sources feed the same row mapping: word positions (works for ruled and borderless tables, and for
OCR words; here), and cell grids from table extractors (pdfplumber, camelot; core/coverage_cells.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from policy_ray.core.confidence import recognition
from policy_ray.core.coverage_text import amount_word, repair_name, repaired_amount, unread_amount
from policy_ray.core.layout import Line
from policy_ray.core.models import Coverage, Word
from policy_ray.core.values import is_none_marker, parse_money, parse_split_money

NUMERIC_KINDS = ("limit", "deductible", "premium")
SKIP = "skip"  # a column the schedule prints and we do not read (location, coinsurance, rate)
_CONTINUED = re.compile(r"(?i)\bcontinued\b|\bcont'd\b|carried forward|see next page|next page")
_CURRENCY_WORD = re.compile(r"^(?:USD|US\$|\$|€|£|EUR|GBP|CAD)$")

@dataclass(frozen=True)
class ColumnKeywords:
    name: tuple[str, ...]
    limit: tuple[str, ...]
    deductible: tuple[str, ...]
    premium: tuple[str, ...]
    total: tuple[str, ...]
    total_due: tuple[str, ...] = ()  # "Total Amount Due": premium plus fees and taxes, not the premium
    charges: tuple[str, ...] = ()  # words of rows that are fees or taxes, not coverages
    extra_columns: tuple[str, ...] = ()  # headers of columns we do not read ("Loc", "Coinsurance")
    split_limit: tuple[str, ...] = ()  # captions that say a limit cell's two amounts are occurrence / aggregate
    name_abbreviations: tuple[str, ...] = ()  # "Bus.", "Equip.": a period in a coverage name that is no OCR noise

    @classmethod
    def from_mapping(cls, data: Mapping[str, Sequence[str]]) -> ColumnKeywords:
        required = {k: tuple(data[k]) for k in ("name", "limit", "deductible", "premium", "total")}
        optional = {k: tuple(data.get(k, ())) for k in ("total_due", "charges", "extra_columns", "split_limit",
                                                        "name_abbreviations")}
        return cls(**required, **optional)

    def kinds(self) -> dict[str, tuple[str, ...]]:
        return {"name": self.name, "limit": self.limit, "deductible": self.deductible, "premium": self.premium}


@dataclass(frozen=True)
class Row:
    coverage: Coverage
    quality: float
    page: int
    # The limit cell held two amounts ("$1,000,000 / $2,000,000"): the limit is the first. "named" when
    # the header, a caption under it or the row says they are each occurrence / aggregate; else "unnamed".
    split_limit: str = ""
    repaired: bool = False  # OCR punctuation removed from the name or an amount ("Business. Property", "2,500.")
    unread: bool = False  # an amount column holds something amount-like that reads as none ("2,5O0")


@dataclass
class TableResult:
    rows: list[Row] = field(default_factory=list)
    total: Decimal | None = None  # the schedule's premium total
    total_quality: float = 0.0
    source: str = "words"
    currency: str | None = None
    pages: set[int] = field(default_factory=set)
    charges: list[Decimal] = field(default_factory=list)  # fee and tax rows: not coverages, not premium
    due: Decimal | None = None  # "Total Amount Due": premium plus charges
    split_named: bool = False  # the header (or a caption under it) names split limits: occurrence / aggregate

    @property
    def premiums(self) -> list[Decimal | None]:
        return [r.coverage.premium for r in self.rows]


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", text.casefold()).strip()


def word_tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.casefold())


def words_only(text: str) -> str:
    """Text without its amounts: "$1,000,000 per occurrence / $2,000,000 aggregate" says which is which."""
    return re.sub(r"[$€£]?\s?\d[\d,.]*", " ", text)


def names_split(text: str, keywords: ColumnKeywords) -> bool:
    """Whether text says which of a limit cell's two amounts is which ("Each Occurrence / Aggregate")."""
    words = f" {' '.join(word_tokens(text))} "
    return any(f" {' '.join(word_tokens(p))} " in words for p in keywords.split_limit if word_tokens(p))


def find_header(words: Sequence[Word], keywords: ColumnKeywords) -> dict[str, tuple[float, float]] | None:
    """Column spans keyed by kind, when this line of words is a coverage table header."""
    tokens = [_norm(w.text) for w in words]
    used: set[int] = set()
    spans: dict[str, tuple[float, float]] = {}
    phrases = sorted(
        ((kind, p) for kind, ps in keywords.kinds().items() for p in ps), key=lambda kp: -len(kp[1].split())
    )
    for kind, phrase in phrases:
        if kind in spans:
            continue
        parts = _norm(phrase).split()
        for i in range(len(tokens) - len(parts) + 1):
            idx = range(i, i + len(parts))
            if any(j in used for j in idx) or [tokens[j] for j in idx] != parts:
                continue
            used.update(idx)
            spans[kind] = (words[i].x0, words[i + len(parts) - 1].x1)
            break
    # Extra columns ("Loc", "Bldg", "Coinsurance") may repeat: each occurrence is a column to skip.
    for phrase in sorted(keywords.extra_columns, key=lambda p: -len(p.split())):
        parts = _norm(phrase).split()
        for i in range(len(tokens) - len(parts) + 1):
            idx = range(i, i + len(parts))
            if parts and not any(j in used for j in idx) and [tokens[j] for j in idx] == parts:
                used.update(idx)
                spans[f"{SKIP}{i}"] = (words[i].x0, words[i + len(parts) - 1].x1)
    # "Limits (Each Occurrence / Aggregate)": the caption of a split limit is part of the header.
    words_at = [i for i, t in enumerate(tokens) if t]  # punctuation alone ("/") is no word
    for phrase in keywords.split_limit:
        parts = word_tokens(phrase)
        for k in range(len(words_at) - len(parts) + 1):
            idx = range(words_at[k], words_at[k + len(parts) - 1] + 1) if parts else range(0)
            if parts and not any(j in used for j in idx) and [t for t in (tokens[j] for j in idx) if t] == parts:
                used.update(idx)
    numeric = [k for k in NUMERIC_KINDS if k in spans]
    if "name" not in spans or len(numeric) < 2:
        return None
    # Stray words between the header cells mean this is prose that happens to contain the keywords.
    if len([i for i in used if tokens[i]]) < len(words_at) - 2:
        return None
    if any(spans[k][0] <= spans["name"][0] for k in numeric):
        return None
    return spans


def _name_cell(line: Line, grouped: set[int], name_left: float, first_numeric_x0: float) -> str:
    """The coverage name: the first cell that starts in the name column. Text in the amount columns
    ("Actual Loss Sustained" as a limit) is not part of the name, even when it reaches leftwards."""
    for segment in line.segments:
        words = [w for w in segment.words if id(w) not in grouped and w.x0 > name_left]
        if words and words[0].x0 < first_numeric_x0 - 2:
            return " ".join(w.text for w in words)
    return ""


def _name_left(spans: Mapping[str, tuple[float, float]]) -> float:
    """Where the name column starts: a little left of its header, but right of skipped columns before it
    ("Loc", "Bldg")."""
    name_x0 = spans["name"][0]
    before = [spans[k][1] for k in spans if k.startswith(SKIP) and spans[k][0] < name_x0]
    return max([name_x0 - 40, *((x1 + name_x0) / 2 for x1 in before)])


def _value_groups(words: Sequence[Word]) -> list[list[Word]]:
    """Runs of words that form one amount ("$", "1,000"), an explicit absence ("N/A"), or a split limit
    ("$1,000,000 / $2,000,000", "1,000,000/2,000,000", "$1,000,000 per occurrence / $2,000,000": one cell,
    two amounts)."""
    groups: list[list[Word]] = []
    pending_currency: Word | None = None
    between: list[Word] = []  # words after the last amount, in its cell ("per occurrence", "/")
    previous: Word | None = None
    chained = False  # the words since the last amount all follow it closely
    for w in words:
        near = previous is not None and previous.x1 + 1.6 * max(w.height, 1.0) >= w.x0
        previous = w
        if _CURRENCY_WORD.match(w.text):
            pending_currency = w
            chained = chained and near
            continue
        if amount_word(w.text) or is_none_marker(w.text) or parse_split_money(w.text) is not None:
            new = [pending_currency, w] if pending_currency else [w]
            if chained and near and any(b.text == "/" for b in between) and amount_word(w.text):
                groups[-1].extend([*between, *new])
            else:
                groups.append(new)
            between, chained = [], True
        elif chained and near and pending_currency is None and not re.search(r"\d", w.text):
            between.append(w)
        else:
            between, chained = [], False
        pending_currency = None
    return groups


def _column_of(word: Word, spans: Mapping[str, tuple[float, float]]) -> str | None:
    """The column a word outside every amount falls in, by the rule amounts are assigned with."""
    name_x0 = spans["name"][0] if "name" in spans else float("-inf")
    columns = sorted((k for k in spans if k in NUMERIC_KINDS or (k.startswith(SKIP) and spans[k][0] > name_x0)),
                     key=lambda k: spans[k][0])
    inside = [k for k in columns if spans[k][0] - 2.0 <= word.x1]
    return inside[-1] if inside else (columns[0] if columns else None)


def _assign(groups: list[list[Word]], spans: Mapping[str, tuple[float, float]]) -> dict[str, list[Word]]:
    """Amounts to columns. A column runs from its header's left edge to the next header's left edge:
    that holds whether the carrier aligns values left, centred or right under its headers. Amounts in
    columns we do not read ("Loc 1", "Rate 0.25") are dropped."""
    name_x0 = spans["name"][0] if "name" in spans else float("-inf")
    columns = sorted((k for k in spans if k in NUMERIC_KINDS or (k.startswith(SKIP) and spans[k][0] > name_x0)),
                     key=lambda k: spans[k][0])
    if len(groups) == len(columns):
        paired = dict(zip(columns, groups, strict=True))
        return {k: g for k, g in paired.items() if k in NUMERIC_KINDS}
    assigned: dict[str, list[Word]] = {}
    for group in groups:
        right = group[-1].x1
        inside = [k for k in columns if spans[k][0] - 2.0 <= right]
        column = inside[-1] if inside else columns[0]
        if column not in assigned:
            assigned[column] = group
    return {k: g for k, g in assigned.items() if k in NUMERIC_KINDS}


def parse_cell(text: str) -> tuple[Decimal | None, float, str | None]:
    """An amount, its parse quality, and its currency; (None, 1.0) for an explicit absence."""
    if not text.strip() or is_none_marker(text):
        return None, 1.0, None
    money = parse_money(text)
    if money is None:
        return None, 0.0, None
    return money.amount, money.quality, money.currency


def row_from_cells(name: str, cells: Mapping[str, str], page: int, word_conf: float, keywords: ColumnKeywords,
                    split_named: bool = False) -> Row | None:
    repaired = repair_name(re.sub(r"\s+", " ", name).strip(" .:-"), keywords.name_abbreviations)
    name = repaired.name
    unread = any(unread_amount(cells.get(kind, "")) for kind in NUMERIC_KINDS)
    if not re.search(r"[A-Za-z]{2}", name):
        return None
    values: dict[str, Decimal | None] = {}
    quality = word_conf
    split = ""
    for kind in NUMERIC_KINDS:
        text = cells.get(kind, "")
        amount, q, _ = parse_cell(text)
        pair = parse_split_money(text) if q == 0.0 and kind == "limit" else None
        if pair is not None:
            # Each occurrence / aggregate: the limit is the first amount. Which is which is the
            # convention unless the header, a caption under it, the row or the cell says so.
            amount, q = pair[0].amount, 1.0
            split = "named" if split_named or names_split(words_only(text), keywords) else "unnamed"
        if q == 0.0 and kind == "premium":
            return None  # a premium that is neither an amount nor an explicit absence: not a coverage row
        if q == 0.0:
            q = 0.9  # a limit stated in words ("Actual Loss Sustained"): no amount to record
        values[kind] = amount
        quality = min(quality, q)
    if values.get("limit") is None and values.get("premium") is None:
        return None
    return Row(Coverage(name=name, limit=values.get("limit"), deductible=values.get("deductible"),
                        premium=values.get("premium")), quality, page, split, repaired.repaired, unread)


def total_type(name: str, keywords: ColumnKeywords) -> str | None:
    """"due" for a total of premium and charges ("Total Amount Due"), "premium" for a premium total."""
    folded = f" {_norm(name)} "
    if any(f" {_norm(t)} " in folded for t in keywords.total_due):
        return "due"
    stripped = folded.strip()
    if any(stripped == _norm(t) or stripped.startswith(_norm(t) + " ") for t in keywords.total):
        return "premium"
    return None


def is_charge(name: str, keywords: ColumnKeywords) -> bool:
    """A fee, tax, surcharge or assessment row ("Policy Fee", "Surplus Lines Tax (4.94%)")."""
    folded = f" {_norm(name)} "
    return any(f" {_norm(c)} " in folded for c in keywords.charges)


def parse_table_from_lines(pages: Sequence[Sequence[Line]], keywords: ColumnKeywords) -> TableResult | None:
    """The first coverage table in reading order, followed across page breaks."""
    result: TableResult | None = None
    spans: Mapping[str, tuple[float, float]] | None = None
    for page_lines in pages:
        start = 0
        if result is None or spans is None:
            for i, line in enumerate(page_lines):
                found = find_header(line.words, keywords)
                if found:
                    spans, start, result = found, i + 1, TableResult(source="words")
                    result.split_named = names_split(line.text, keywords)
                    break
            else:
                continue
        else:
            # Continuing from the previous page: skip a repeated header if there is one.
            for i, line in enumerate(page_lines[:15]):
                if find_header(line.words, keywords):
                    start = i + 1
                    break
        assert result is not None and spans is not None
        finished = _read_rows(page_lines[start:], spans, keywords, result)
        if finished:
            return result
    return result if result and result.rows else None


def _read_rows(
    lines: Sequence[Line], spans: Mapping[str, tuple[float, float]], keywords: ColumnKeywords,
    result: TableResult,
) -> bool:
    """Read rows into result; True when the table ended on this page (a total or a non-row line)."""
    name_left = _name_left(spans)
    first_numeric_x0 = min(spans[k][0] for k in NUMERIC_KINDS if k in spans)
    previous_bottom: float | None = None
    for line in lines:
        if previous_bottom is not None and line.top - previous_bottom > 4.0 * max(line.height, 6.0):
            return True
        words = list(line.words)
        groups = _value_groups([w for w in words if w.x1 > first_numeric_x0 - 40])
        grouped = {id(w) for g in groups for w in g}
        name = _name_cell(line, grouped, name_left, first_numeric_x0)
        caption = " ".join(w.text for w in words if id(w) not in grouped)
        total_kind = total_type(name, keywords) or total_type(caption, keywords)
        if total_kind is not None or (groups and is_charge(name or caption, keywords)):
            cells = _assign(groups, spans)
            premium_words = cells.get("premium") or (groups[-1] if groups else [])
            if not premium_words:
                return True
            amount, quality, currency = parse_cell(" ".join(w.text for w in premium_words))
            result.currency = result.currency or currency
            if total_kind is None:
                # A fee or tax inside the schedule: part of the amount due, neither coverage nor premium.
                if amount is not None:
                    result.charges.append(amount)
                previous_bottom = line.bottom
                continue
            if total_kind == "due":
                result.due = amount
            else:
                result.total, result.total_quality = amount, quality * recognition(min(w.conf for w in premium_words))
            return True
        if not groups:
            if _CONTINUED.search(line.text):
                return False  # "Continued on next page": the schedule goes on overleaf
            if not result.rows and names_split(line.text, keywords):
                result.split_named = True  # a caption under the header: "Each Occurrence / Aggregate"
                continue
            if result.rows or name:
                # Text with no amounts ends the schedule (a heading, a note, the wording).
                return bool(result.rows)
            continue
        cells = _assign(groups, spans)
        texts = {k: " ".join(w.text for w in ws) for k, ws in cells.items()}
        row = row_from_cells(name, texts, line.page, recognition(min(w.conf for w in words)), keywords,
                              result.split_named or names_split(words_only(line.text), keywords))
        if row is None:
            return bool(result.rows)
        # An amount-like word no amount took, in an amount column ("2,5O0"): the row lost a value.
        stray = [w for w in words if id(w) not in grouped and w.x1 > first_numeric_x0 - 40 and unread_amount(w.text)]
        repaired = any(repaired_amount(w.text) for g in groups for w in g)
        if repaired or any(_column_of(w, spans) in NUMERIC_KINDS for w in stray):
            row = replace(row, repaired=row.repaired or repaired,
                          unread=row.unread or any(_column_of(w, spans) in NUMERIC_KINDS for w in stray))
        result.rows.append(row)
        result.pages.add(line.page)
        for t in texts.values():
            _, _, currency = parse_cell(t)
            result.currency = result.currency or currency
        previous_bottom = line.bottom
    return False
