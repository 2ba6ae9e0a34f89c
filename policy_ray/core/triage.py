"""Page triage: from cheap plain text, decide which pages deserve word geometry and table extraction.

Real policies are a few declarations pages followed by tens of pages of wording. Geometry costs ~30x
the plain text, so it runs only where fields or schedules can be: pages with field labels, schedule
headers or several amounts, and the page after a schedule (it may continue there).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

_TOTAL = re.compile(r"(?im)^[ \t]*total\b[^\n]*\d|\btotal (?:annual |policy )?premium\b[^\n]*\d")
_MONEY = re.compile(r"(?:\$|USD|EUR|GBP|CAD)\s?\d{1,3}(?:,\d{3})+|\b\d{1,3}(?:,\d{3}){1,}(?:\.\d{2})?\b")


@dataclass(frozen=True)
class TriageRules:
    field_labels: tuple[str, ...]
    table_headers: tuple[str, ...]
    max_field_pages: int = 12

    @classmethod
    def build(cls, labels: Iterable[str], headers: Iterable[str], max_field_pages: int = 12) -> TriageRules:
        return cls(tuple(sorted({lab.casefold() for lab in labels})),
                   tuple(sorted({h.casefold() for h in headers})), max_field_pages)


@lru_cache(maxsize=64)
def _label_regex(labels: tuple[str, ...]) -> re.Pattern[str]:
    # A label that starts a line, or is followed by ':' or '#', is a field; the same words inside
    # wording prose ("...send the first Named Insured any refund") are not.
    body = "|".join(re.escape(lab) for lab in sorted(labels, key=len, reverse=True))
    return re.compile(rf"(?im)(?:^[ \t]*(?:{body})[ \t]*(?:$|\r|[:#]|[ \t]{{2,}}))|(?:(?:{body})[ \t]*[:#])")


def _has_label(text: str, labels: Sequence[str]) -> bool:
    return _label_regex(tuple(labels)).search(text) is not None


def _has_header_line(text: str, headers: Sequence[str]) -> bool:
    """A schedule header: one line naming three or more column captions (Coverage, Limit, Premium...)."""
    for line in text.splitlines():
        words = set(re.findall(r"[a-z][a-z.]*", line))
        if len(line) < 120 and sum(h in words for h in headers if " " not in h) >= 3:
            return True
    return False


def _tabular_lines(raw: str) -> int:
    """Lines carrying two or more amounts: schedules have many, wording prose has next to none."""
    return sum(1 for line in raw.splitlines() if len(_MONEY.findall(line)) >= 2)


def select_field_pages(page_texts: Sequence[str], rules: TriageRules) -> list[int]:
    """0-based indexes of pages to extract with geometry, in order."""
    chosen: list[int] = []
    carry_over = False
    for i, raw in enumerate(page_texts):
        text = raw.casefold()
        header = _has_header_line(text, rules.table_headers)
        tabular = _tabular_lines(raw)
        wanted = i == 0 or carry_over or header or tabular >= 2 or _has_label(text, rules.field_labels)
        if wanted and text.strip():
            chosen.append(i)
            # A schedule without its total on this page may continue on the next one.
            carry_over = (header or (carry_over and tabular >= 1)) and not _TOTAL.search(text)
        else:
            carry_over = False
        if len(chosen) >= rules.max_field_pages:
            break
    return chosen or ([0] if page_texts else [])
