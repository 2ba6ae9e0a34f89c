"""Coverage names as printed, less the punctuation OCR sprinkles into them.

OCR reads a speck between two words as a period: "Business. Personal Property". A period after a whole
word, between two capitalized words, has no abbreviation sense and is dropped; one after an abbreviation
("Bus. Personal Property", "Equip. Breakdown") is the carrier's own and stays. A name that needed the
repair says so, and the mapping keeps its confidence lower: the repair is a guess at what was printed.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

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
