"""Page triage: from cheap plain text, decide which pages deserve word geometry and table extraction.

Real policies are a few declarations pages followed by tens of pages of wording. Geometry costs ~30x
the plain text, so it runs only where fields or schedules can be: pages with field labels, schedule
headers or several amounts, and the page after a schedule (it may continue there).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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


def _has_label(text: str, labels: Sequence[str]) -> bool:
    # A label followed by ':' or a line break is a field; the same words inside wording prose are not.
    for label in labels:
        for m in re.finditer(re.escape(label), text):
            tail = text[m.end():m.end() + 3]
            if tail[:1] in (":", "#", "\n", "\r") or tail.startswith(" :") or tail.startswith("  "):
                return True
    return False


def select_field_pages(page_texts: Sequence[str], rules: TriageRules) -> list[int]:
    """0-based indexes of pages to extract with geometry, in order."""
    chosen: list[int] = []
    carry_over = False
    for i, raw in enumerate(page_texts):
        text = raw.casefold()
        header = sum(h in text for h in rules.table_headers) >= 3
        wanted = (
            i == 0
            or carry_over
            or _has_label(text, rules.field_labels)
            or header
            or len(_MONEY.findall(raw)) >= 3
        )
        if wanted and text.strip():
            chosen.append(i)
            carry_over = header or (carry_over and len(_MONEY.findall(raw)) >= 2)
        else:
            carry_over = False
        if len(chosen) >= rules.max_field_pages:
            break
    return chosen or ([0] if page_texts else [])
