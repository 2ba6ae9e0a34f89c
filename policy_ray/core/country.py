"""Which country a document's addresses place it in: the context "$" and "05/01/2026" are read in.

"$" is the US, Canadian, Australian and New Zealand dollar alike, and "05/01/2026" is 1 May in the US
and 5 January in Australia. Only address shapes count as signals (a state or province with its postal
code, a country name on a line of its own): policy wording names other countries in passing
("... the United States, its territories and possessions, Puerto Rico and Canada").
"""

from __future__ import annotations

import re

_US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|"
    "OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR"
)
_CA_POSTCODE = r"[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z][ -]?\d[ABCEGHJ-NPRSTV-Z]\d"
SIGNALS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("US", re.compile(rf"\b(?:{_US_STATES})\.?,?\s+\d{{5}}(?:-\d{{4}})?\b")),
    ("US", re.compile(r"(?im)^\s*(?:USA|U\.S\.A\.|United States(?: of America)?)\s*$")),
    ("CA", re.compile(rf"\b{_CA_POSTCODE}\b")),
    ("CA", re.compile(r"(?im)^\s*canada\s*$")),
    ("AU", re.compile(r"\b(?:NSW|VIC|QLD|TAS|ACT|SA|WA|NT)\.?,?\s+\d{4}\b(?!-)")),
    ("AU", re.compile(r"(?im)^\s*australia\s*$|\bABN:?\s*\d{2}\s?\d{3}\s?\d{3}\s?\d{3}\b")),
    ("NZ", re.compile(r"(?im)^\s*new zealand\s*$")),
    ("GB", re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s\d[ABD-HJLNP-UW-Z]{2}\b")),
    ("GB", re.compile(r"(?im)^\s*(?:united kingdom|england|scotland|wales|northern ireland)\s*$")),
    ("IE", re.compile(r"(?im)^\s*(?:ireland|republic of ireland)\s*$")),
)
# Countries whose documents write numeric dates day first.
DAY_FIRST_COUNTRIES = frozenset({"AU", "NZ", "GB", "IE"})
# The dollar a "$" means in each country that uses the sign.
DOLLAR_OF = {"US": "USD", "CA": "CAD", "AU": "AUD", "NZ": "NZD"}


def country_signals(text: str) -> frozenset[str]:
    """Countries the document's addresses point to (empty when none does)."""
    return frozenset(country for country, pattern in SIGNALS if pattern.search(text))


def dollar_currency(countries: frozenset[str]) -> str | None:
    """What a bare "$" means: US dollars unless the addresses place the document elsewhere; a local
    dollar when exactly one other dollar country is named; unknown when the signals disagree."""
    if not countries or countries == {"US"}:
        return "USD"
    if len(countries) == 1:
        return DOLLAR_OF.get(next(iter(countries)))
    return None


def date_order_of(countries: frozenset[str]) -> bool | None:
    """Day first (True), month first (False), or unknown: Canada writes both, and mixed signals settle nothing."""
    if countries == {"US"}:
        return False
    if countries and countries <= DAY_FIRST_COUNTRIES:
        return True
    return None
