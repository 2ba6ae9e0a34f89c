"""Coverage names and amounts as printed, less the punctuation OCR sprinkles into them.

OCR reads a speck between two words as a period: "Business. Personal Property". A period after a whole
word, between two capitalized words, has no abbreviation sense and is dropped; one after an abbreviation
("Bus. Personal Property", "Equip. Breakdown") is the carrier's own and stays. A name that needed the
repair says so, and the mapping keeps its confidence lower: the repair is a guess at what was printed.
An amount OCR ended with a period or comma ("2,500.") is read the same way; one it broke beyond reading
("2,5O0") is flagged, since the row then lacks a value the page shows.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from policy_ray.core.values import parse_money, parse_split_money

# A word that is one amount in a schedule: "$1,000", "USD 1,000.00", "1,000", "(250.00)", "2500".
MONEYISH = re.compile(
    r"^\(?(?:USD|US\$|\$|€|£)?\s?-?\d{1,3}(?:,\d{3})*(?:\.\d{1,2})?\)?$|^\(?\$?\d{3,}(?:\.\d{1,2})?\)?$"
)
# What an amount OCR broke looks like: a currency sign or a digit group ("2,5O0", "S2,500", "$l,000"); not
# a percentage ("80%", a coinsurance or a percentage deductible) and not a word ("12 months").
BROKEN_AMOUNT = re.compile(r"[$€£]|\d[,.]\d")

MIN_WORD = 4  # a period after a shorter word may be an abbreviation no list knows ("Wd.", "Hab.")
MAX_CAPS_ABBREVIATION = 5  # "BLDG.", "EQUIP.": capitals this short may abbreviate
_STRAY_PERIOD = re.compile(r"\b([A-Z][A-Za-z]*)\.(\s*)(?=[A-Z][A-Za-z])")


@dataclass(frozen=True)
class CoverageName:
    name: str
    repaired: bool  # stray punctuation was removed


def repair_name(name: str, abbreviations: Collection[str]) -> CoverageName:
    """`name` without periods that no abbreviation explains ("Business. Personal Property")."""
    known = {a.casefold().rstrip(".") for a in abbreviations}
    repaired = False

    def fix(m: re.Match[str]) -> str:
        nonlocal repaired
        word = m.group(1)
        if len(word) < MIN_WORD or word.casefold() in known or (word.isupper() and len(word) <= MAX_CAPS_ABBREVIATION):
            return m.group(0)
        repaired = True
        return f"{word} "

    fixed = re.sub(r"\s+", " ", _STRAY_PERIOD.sub(fix, name)).strip()
    return CoverageName(fixed, repaired)


def amount_word(text: str) -> bool:
    """An amount, or one OCR ended with a stray period or comma ("2,500.")."""
    return bool(MONEYISH.match(text) or (text[-1:] in ".," and MONEYISH.match(text[:-1])))


def repaired_amount(text: str) -> bool:
    """An amount only once a stray period or comma is removed."""
    return not MONEYISH.match(text) and amount_word(text)


def unread_amount(text: str) -> bool:
    """Cell text that looks like an amount but reads as none: an amount lost, not an empty cell."""
    return (bool(BROKEN_AMOUNT.search(text)) and not text.strip().endswith("%") and parse_money(text) is None
            and parse_split_money(text) is None)
