"""Parsers for the value types on a policy: dates, money, policy numbers, names.

Each parser is strict: it returns None rather than guess, because accepting a wrong value is worse
than dead-lettering a right one. A parse also reports how unambiguous it was (a quality in (0, 1]).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from policy_ray.core.country import country_signals, date_order_of, dollar_currency

_MONTHS = {
    name: i
    for i, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
            ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
            ("october", "oct"), ("november", "nov"), ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH_RE = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"  # noqa: E501

# Order matters: year-first dates (never ambiguous), then numeric day/month dates, then written months
# ("January 5, 2026", "5 Jan 2026", "05-Jan-2026", "05JAN2026").
DATE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iso", re.compile(r"(?<![\d/.-])(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?![\d/.-]\d)(?!\d)")),
    ("numeric_slash", re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?![\d/])")),
    ("numeric_dash", re.compile(r"(?<![\d-])(\d{1,2})-(\d{1,2})-(\d{4})(?![\d-])")),
    ("dotted_dmy", re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4})(?![\d.])")),
    ("month_day_year",
     re.compile(rf"(?i)\b({_MONTH_RE})(?:\s+|-|/)(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+|-|/|,)(\d{{4}})\b")),
    ("day_month_year",
     re.compile(rf"(?i)\b(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+|-|/|\.)?({_MONTH_RE})(?:,?\s+|-|/|,)?(\d{{4}})\b")),
)

MIN_YEAR, MAX_YEAR = 1990, 2100
# "05/06/2026" is 6 May in the US and 5 June in Britain. Read in an order the document does not
# establish, such a date is a guess: its quality keeps the field out of the accept band on its own.
ASSUMED_ORDER_QUALITY = 0.8
DAY_FIRST_CURRENCIES = frozenset({"GBP", "EUR", "AUD", "NZD"})
MONTH_FIRST_CURRENCIES = frozenset({"USD"})


@dataclass(frozen=True)
class ParsedDate:
    value: date
    start: int
    end: int
    quality: float
    order_assumed: bool = False  # day and month could be swapped, and nothing in the document says which


def _make_date(year: int, month: int, day: int) -> date | None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def find_dates(text: str, *, day_first: bool | None = False) -> list[ParsedDate]:
    """All dates in text, left to right, that parse in the given order of numeric dates.

    `day_first`: False, numeric dates are month first (US, and the ACORD forms); True, day first;
    None, the document does not say: a date valid in one order only is read in that order, and one
    valid in both is read month first with `order_assumed` set and a lower quality.
    """
    found: list[ParsedDate] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in DATE_PATTERNS:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            parsed = _date_from_match(kind, m, day_first)
            if parsed is None:
                continue
            value, quality, assumed = parsed
            found.append(ParsedDate(value, m.start(), m.end(), quality, assumed))
            taken.append((m.start(), m.end()))
    return sorted(found, key=lambda d: d.start)


def _date_from_match(kind: str, m: re.Match[str], day_first: bool | None) -> tuple[date, float, bool] | None:
    g = m.groups()
    if kind == "iso":
        d = _make_date(int(g[0]), int(g[2]), int(g[3]))
        return (d, 1.0, False) if d else None
    if kind in ("numeric_slash", "numeric_dash"):
        return _numeric_date(int(g[0]), int(g[1]), g[2], day_first)
    if kind == "dotted_dmy":
        d = _make_date(int(g[2]), int(g[1]), int(g[0]))
        return (d, 0.9, False) if d else None
    if kind == "month_day_year":
        month = _MONTHS.get(g[0].lower().rstrip("."))
        d = _make_date(int(g[2]), month, int(g[1])) if month else None
        return (d, 1.0, False) if d else None
    if kind == "day_month_year":
        month = _MONTHS.get(g[1].lower().rstrip("."))
        d = _make_date(int(g[2]), month, int(g[0])) if month else None
        return (d, 1.0, False) if d else None
    return None


def _numeric_date(first: int, second: int, year_text: str, day_first: bool | None) -> tuple[date, float, bool] | None:
    year = int(year_text)
    quality = 0.97
    if len(year_text) == 2:
        year += 2000
        quality = 0.85  # two-digit years are a guess at the century
    month_first = _make_date(year, first, second)
    day_first_reading = _make_date(year, second, first)
    if day_first is not None:
        d = day_first_reading if day_first else month_first
        return (d, quality, False) if d else None
    if month_first and day_first_reading and month_first != day_first_reading:
        return month_first, min(quality, ASSUMED_ORDER_QUALITY), True
    d = month_first or day_first_reading
    return (d, quality, False) if d else None


def numeric_date_order(text: str, currency: str | None,
                       countries: frozenset[str] = frozenset()) -> bool | None:
    """Whether a document writes numeric dates day first (True), month first (False), or cannot tell (None).

    The dates themselves decide first: a "25/06/2026" anywhere settles it; a document showing both
    orders settles nothing. Failing that, the country its addresses name (policy_ray/core/country.py),
    then a currency the document states: dollars month first, pounds and euros day first. A bare "$"
    is no statement: Canada and Australia print it too.
    """
    day_first = month_first = False
    for kind in ("numeric_slash", "numeric_dash"):
        for m in dict(DATE_PATTERNS)[kind].finditer(text):
            first, second = int(m.group(1)), int(m.group(2))
            day_first |= 12 < first <= 31 and 1 <= second <= 12
            month_first |= 12 < second <= 31 and 1 <= first <= 12
    if day_first != month_first:
        return day_first
    if day_first:
        return None
    if countries:
        return date_order_of(countries)
    if currency in MONTH_FIRST_CURRENCIES:
        return False
    return True if currency in DAY_FIRST_CURRENCIES else None


def parse_date(text: str) -> ParsedDate | None:
    """The single date in text; None when there is none or more than one (ambiguous)."""
    dates = find_dates(text)
    return dates[0] if len(dates) == 1 else None


# ---- money -------------------------------------------------------------------------------------------

# Markers that state a currency. A bare "$" states none: it is the dollar of whichever country the
# document is from (policy_ray/core/country.py decides).
_CURRENCY_MARKERS: tuple[tuple[str, str], ...] = (
    ("USD", "USD"), ("US$", "USD"), ("EUR", "EUR"), ("€", "EUR"), ("GBP", "GBP"), ("£", "GBP"),
    ("CAD", "CAD"), ("C$", "CAD"), ("CA$", "CAD"), ("AUD", "AUD"), ("A$", "AUD"), ("AU$", "AUD"),
    ("NZD", "NZD"), ("NZ$", "NZD"),
)
_CUR = r"USD|US\$|CA\$|C\$|CAD|AU\$|A\$|AUD|NZ\$|NZD|EUR|GBP|\$|€|£"
_MONEY_RE = re.compile(
    rf"(?P<cur>{_CUR})?\s*"
    r"(?<![\d/.,])(?P<num>\(?-?\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?\)?|\(?-?\d+(?:\.\d{1,2})?\)?)"
    r"(?![\d,])(?!\s*%)(?![/.-]\d)"
    rf"(?:\s*(?P<post>{_CUR})(?![A-Za-z]))?"
)
# "1 234,56 €", "1.234,56 EUR", "12,50 €": grouped with spaces or dots, two decimals after a comma.
_DECIMAL_COMMA_RE = re.compile(
    rf"^(?P<cur>{_CUR})?\s*(?P<num>-?\d{{1,3}}(?:[ .\u00a0\u202f]\d{{3}})+,\d{{2}}|-?\d+,\d{{2}})\s*"
    rf"(?P<post>{_CUR})?$"
)
_NONE_WORDS = re.compile(r"(?i)^\s*(n/?a|none|nil|not covered|excluded|included|incl\.?|-+|—)\s*$")


@dataclass(frozen=True)
class ParsedMoney:
    amount: Decimal
    currency: str | None  # stated by a code or sign ("USD", "€"); None for a bare "$" or no marker
    quality: float
    dollar_sign: bool = False  # written with a bare "$"


def _currency_of(marker: str | None) -> str | None:
    return next((code for m, code in _CURRENCY_MARKERS if m == marker), None) if marker else None


def parse_money(text: str) -> ParsedMoney | None:
    """A single amount from a cell or value string ("$1,234.50", "USD 5,000", "1,000,000", "1 234,56 €").

    Never a number cut out of a longer one: "1 234,56" is 1234.56 or nothing, not 1.00.
    """
    s = text.strip()
    if not s:
        return None
    european = _DECIMAL_COMMA_RE.match(s)
    if european is not None:
        return _decimal_comma(european)
    matches = list(_MONEY_RE.finditer(s))
    if len(matches) != 1:
        return None
    m = matches[0]
    leftover = (s[: m.start()] + s[m.end():]).strip(" .:*")
    # Words around the number ("per occurrence") are fine in limit cells, but not letters glued on,
    # and not more digit groups: those mean the number was written some other way.
    if leftover and re.search(r"[A-Za-z]\d|\d[A-Za-z]", s):
        return None
    before, after = s[: m.start("num")], s[m.end("num"):]
    if re.search(r"\d[\s\u00a0\u202f.,']+$", before) or re.match(r"[\s\u00a0\u202f.,']+\d", after):
        return None
    if m.group("cur") and m.group("post"):
        return None
    raw = m.group("num")
    negative = (raw.startswith("(") and raw.endswith(")")) or raw.startswith("-")
    digits = raw.strip("()-").replace(",", "")
    try:
        amount = Decimal(digits).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None
    if negative:
        amount = -amount
    cur = m.group("cur") or m.group("post")
    grouped = "," in raw or "." in raw
    quality = 1.0 if (cur or grouped) else 0.85  # a bare "12" could be anything
    return ParsedMoney(amount, _currency_of(cur), quality, dollar_sign=cur == "$")


def _decimal_comma(m: re.Match[str]) -> ParsedMoney | None:
    cur, post = m.group("cur"), m.group("post")
    if cur and post:
        return None
    raw = m.group("num")
    grouped = bool(re.search(r"[ .\u00a0\u202f]", raw))
    if not grouped and not (cur or post):
        return None  # "12,50" alone: a decimal comma or a slip; no currency says which
    digits = re.sub(r"[ .\u00a0\u202f]", "", raw).replace(",", ".")
    try:
        amount = Decimal(digits).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None
    marker = cur or post
    return ParsedMoney(amount, _currency_of(marker), 1.0, dollar_sign=marker == "$")


def parse_split_money(text: str) -> tuple[ParsedMoney, ParsedMoney] | None:
    """Two amounts in one cell ("$1,000,000 / $2,000,000", "1,000,000/2,000,000"): a split limit, each
    occurrence then aggregate. Both must be written as amounts (a sign, a code or digit grouping):
    "100/300" may be thousands, a date or a ratio, and is no pair of amounts."""
    parts = text.split("/")
    if len(parts) != 2:
        return None
    first, second = parse_money(parts[0]), parse_money(parts[1])
    if first is None or second is None or min(first.quality, second.quality) < 1.0:
        return None
    return first, second


def is_none_marker(text: str) -> bool:
    """Cells that state an explicit absence ("N/A", "None", "Included")."""
    return bool(_NONE_WORDS.match(text))


def stated_currency(text: str) -> str | None:
    """A currency the document names with a code or a sign of its own ("USD", "C$", "€"); not a bare "$"."""
    for marker, code in _CURRENCY_MARKERS:
        if re.search(rf"(?<![A-Za-z]){re.escape(marker)}(?![A-Za-z])", text):
            return code
    return None


def has_dollar_sign(text: str) -> bool:
    return re.search(r"(?<![A-Za-z$])\$\s?\d", text) is not None


def detect_currency(text: str) -> str | None:
    """The document's currency: a stated one, else the dollar of the country its addresses name."""
    stated = stated_currency(text)
    if stated is not None:
        return stated
    return dollar_currency(country_signals(text)) if has_dollar_sign(text) else None


# ---- identifiers --------------------------------------------------------------------------------------

_POLICY_NUMBER_RE = re.compile(r"^[A-Z0-9][A-Z0-9\-/. ]{2,28}[A-Z0-9]$")
_PHONE_RE = re.compile(r"^\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}$")
# Words printed after a number that are not part of it ("CPP0042117 NEW", "... RENEWAL").
_STATUS_WORDS = frozenset({
    "NEW", "RENEWAL", "RENEW", "RENEWED", "PREVIOUS", "PRIOR", "EXPIRING", "REWRITE", "REWRITTEN", "REISSUE",
    "REISSUED", "REVISED", "AMENDED", "CANCELLED", "CANCELED", "ENDORSED", "REPLACES", "REPLACED", "REPLACEMENT",
    "ORIGINAL", "COPY", "DUPLICATE", "VOID", "CONTINUED", "BOUND", "QUOTE", "BINDER", "ACTIVE", "INFORCE", "LAPSED",
})
# Form and edition codes ("IL 12 01", "CG 00 01 04 13") look like numbers but identify a form.
_FORM_CODE_RE = re.compile(r"^[A-Z]{2,3} ?\d{2} \d{2}(?: \d{2}){0,2}$")
MIN_NUMBER_CHARS = 5  # letters and digits: "1234" or "WC 26" is a fragment, not a policy number
MIN_NUMBER_DIGITS = 3


_DATE_WORD = re.compile(
    rf"(?i)^(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:\d{{4}}|\d{{2}})|\d{{4}}[/.-]\d{{1,2}}[/.-]\d{{1,2}}|"
    rf"\d{{1,2}}-?{_MONTH_RE}-?\d{{2,4}}|{_MONTH_RE}-?\d{{1,2}},?-?\d{{4}})$"
)
_AMOUNT_WORD = re.compile(r"^\(?(?:[$€£]|USD|US\$|CAD|C\$|EUR|GBP)?\s?\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?\)?$|"
                          r"^\(?(?:[$€£]|US\$|C\$)\s?\d+(?:\.\d{1,2})?\)?$|^\d+\.\d{2}$")
# A date or an amount glued to a number by overlapping print ("LMI-BP-778123044/01/2026"): no separator
# says where the number ends, and the overlap may have eaten or swapped characters.
_GLUED_DATE = (
    re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-]((?:19|20)\d{2})(?!\d)"),
    re.compile(r"(?<![\d/])((?:19|20)\d{2})[/.-](\d{1,2})[/.-](\d{1,2})(?!\d)"),
    re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2})$"),
)
_GLUED_MONTH = re.compile(rf"(?i)\d{{1,2}}{_MONTH_RE}\d{{2,4}}|{_MONTH_RE}\d{{1,2}},?(?:19|20)\d{{2}}")
_GLUED_AMOUNT = re.compile(r"[$€£,]|(?<![.\d])\d+\.\d{2}$")


def _is_date_word(token: str) -> bool:
    return bool(_DATE_WORD.match(token)) and bool(find_dates(token, day_first=None))


def _is_amount_word(token: str) -> bool:
    return bool(_AMOUNT_WORD.match(token))


def _valid_day_month(a: int, b: int) -> bool:
    return (1 <= a <= 12 and 1 <= b <= 31) or (1 <= b <= 12 and 1 <= a <= 31)


def has_glued_tail(candidate: str) -> bool:
    """Whether a date or an amount is stuck to (or inside) the text with no space: "...044/01/2026",
    "...7781234$2,150.00", "...20260401" is not one (no separators), "...2150.00" is."""
    for i, pattern in enumerate(_GLUED_DATE):
        for m in pattern.finditer(candidate):
            first, second = (m.group(2), m.group(3)) if i == 1 else (m.group(1), m.group(2))
            # "44/01/2026" is no date, but its "4/01/2026" is: the glued digit may belong to either.
            if any(_valid_day_month(int(a), int(second)) for a in {first, first[-1:]}):
                return True
    if _GLUED_MONTH.search(candidate):
        return True
    # A cents tail counts only where the number has no other dots ("01.234.567.89" is a dotted number).
    return bool(_GLUED_AMOUNT.search(candidate)) and (candidate.count(".") <= 1 or "," in candidate
                                                      or any(c in candidate for c in "$€£"))


def clean_policy_number(text: str) -> str | None:
    """A policy number as printed, or None when the text cannot be one (a year, a form code, a phone
    number, a date, a sentence). Status words after it ("NEW", "RENEWAL") are not part of it.

    A date or an amount printed after it, separated by a space ("CPP 0042 1177 04/01/2026"), is the
    next column's value and is cut off; one glued to it without a space ("LMI-BP-778123044/01/2026",
    overlapping print) leaves no sign of where the number ends: refused."""
    candidate = re.sub(r"\s+", " ", text.strip().strip(":#").strip()).upper()
    tokens = candidate.split(" ")
    cut = next((i for i, t in enumerate(tokens) if _is_date_word(t.strip(".,;:()")) or _is_amount_word(t)),
               len(tokens))
    if 0 < cut < len(tokens) and tokens[cut - 1] in ("-", "/", "$", "TO", "FROM"):
        cut -= 1  # "X - 04/01/2026": the dash belongs to the range, not to the number
    tokens = tokens[:cut]
    while len(tokens) > 1 and tokens[-1].strip(".,;:()") in _STATUS_WORDS:
        tokens.pop()
    candidate = " ".join(tokens)
    if not candidate or has_glued_tail(candidate):
        return None
    if not _POLICY_NUMBER_RE.match(candidate) or len(tokens) > 3:  # sentences are not identifiers
        return None
    digits, alnum = sum(c.isdigit() for c in candidate), sum(c.isalnum() for c in candidate)
    if digits < MIN_NUMBER_DIGITS or alnum < MIN_NUMBER_CHARS:
        return None
    groups = re.findall(r"\d+", candidate)
    if len(groups) == 1 and re.fullmatch(r"(?:19|20)\d{2}", groups[0]):
        return None  # "2026", "WC 2026": a year with a word, not a number
    if re.fullmatch(r"[A-Z]{4,}", tokens[-1]):
        return None  # a word after the number: the value ran into the next text
    if any(t in ("Y", "N", "X") for t in tokens):
        return None  # a lone Y/N/X is a check-box mark from a neighbouring column ("ADDL INSD"), not a part
    if _FORM_CODE_RE.match(candidate) or find_dates(candidate, day_first=None) or _PHONE_RE.match(candidate):
        return None
    return candidate
