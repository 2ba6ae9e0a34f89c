"""The carrier's name from the top of page 1, and the heading text templates fingerprint.

The largest line at the top of a declarations page is usually the carrier's name, but not always: it
may be the document's title ("COMMERCIAL PROPERTY INSURANCE DECLARATIONS"), the agency that sent it
("Summit Insurance Group"), or the insured. So a heading names the carrier only if it reads like an
insurer and nothing else, and it is trusted only when the document says it again somewhere else (a
footer, "Issued by ...", a NAIC number printed under it).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from policy_ray.core.captions import combined_regex, looks_like_label
from policy_ray.core.confidence import EVIDENCE_BASE, UNCORROBORATED_HEADING, recognition, scale
from policy_ray.core.layout import Line
from policy_ray.core.names import clean_name

TOP_SHARE = 0.3  # the heading sits in the top 30% of page 1's text
HEADING_HEIGHT_SHARE = 0.7  # lines at least this tall relative to the tallest there form the heading


@dataclass(frozen=True)
class HeadingRules:
    carrier_keywords: tuple[str, ...]  # an insurer's name has one ("Insurance", "Casualty", "Co.")
    exclude: tuple[str, ...]  # whole words of agencies ("Agency", "Group", "Brokers")
    title_words: tuple[str, ...]  # whole words of document titles ("Declarations", "Policy")
    letterhead: tuple[str, ...] = ()  # phrases only an insurer prints under its name ("NAIC", "A Stock Company")


@dataclass(frozen=True)
class HeadingCarrier:
    name: str
    confidence: float
    corroborated: bool


def name_key(text: str) -> str:
    """A name compared without case or punctuation ("Co." and "Co" alike)."""
    return " ".join(re.findall(r"[a-z0-9]+", text.casefold()))


def _top(lines: Sequence[Line]) -> list[tuple[int, Line]]:
    """(index, line) of the lines in the top region of the first page in `lines`."""
    if not lines:
        return []
    page = lines[0].page
    first = [(i, ln) for i, ln in enumerate(lines) if ln.page == page]
    limit = first[0][1].top + TOP_SHARE * max(ln.bottom for _, ln in first)
    return [(i, ln) for i, ln in first if ln.top <= limit]


def heading_text(lines: Sequence[Line]) -> str:
    """Text of the tallest lines at the top of page 1 (where a carrier prints its name)."""
    top = _top(lines)
    if not top:
        return ""
    tallest = max(ln.height for _, ln in top)
    return "\n".join(ln.text for _, ln in top if ln.height >= HEADING_HEIGHT_SHARE * tallest)


def _has_word(folded: str, words: Sequence[str]) -> bool:
    return any(re.search(rf"(?<![a-z0-9]){re.escape(w.casefold())}(?![a-z0-9])", folded) for w in words)


def carrier_from_heading(lines: Sequence[Line], rules: HeadingRules, *, skip: Collection[int] = (),
                         labels: Sequence[str] = (), carrier_labels: Collection[str] = (),
                         not_names: Collection[str] = ()) -> HeadingCarrier | None:
    """The tallest line near the top of page 1 that reads as an insurer's name.

    `skip`: indices of lines that carry labelled values (not headings). `labels`: every known label; the
    name printed under or after one that is not in `carrier_labels` (a producer, the insured) does not
    corroborate the heading. `not_names`: name keys of other fields' values (the insured is no carrier).
    """
    top = [(i, ln) for i, ln in _top(lines) if i not in skip]
    if not top:
        return None
    tallest = max(ln.height for _, ln in top)
    for index, line in sorted(top, key=lambda item: -item[1].height):
        for segment in line.segments:
            folded = segment.text.casefold()
            if not any(k in folded.split() or k in folded for k in rules.carrier_keywords):
                continue
            if _has_word(folded, rules.exclude) or _has_word(folded, rules.title_words):
                continue
            name = clean_name(segment.text)
            if not name or name_key(name) in not_names:
                continue
            quality = 1.0 if line.height >= tallest - 0.5 else 0.85
            top_lines = {i for i, _ in _top(lines)}
            corroborated = (said_elsewhere(lines, name, {index, *top_lines}, labels, carrier_labels)
                            or _letterhead_under(lines, index, rules.letterhead))
            confidence = scale(EVIDENCE_BASE["heading"], quality, recognition(segment.conf),
                               1.0 if corroborated else UNCORROBORATED_HEADING)
            return HeadingCarrier(name, confidence, corroborated)
    return None


def said_elsewhere(lines: Sequence[Line], name: str, exclude: Collection[int], labels: Sequence[str],
                   carrier_labels: Collection[str]) -> bool:
    """Whether the name appears on a line not in `exclude` that no other party's label owns (a footer,
    the running header of a wording page, "Issued by ...")."""
    key = f" {name_key(name)} "
    owned = party_lines(lines, labels, carrier_labels)
    return any(key in f" {name_key(ln.text)} " for i, ln in enumerate(lines) if i not in exclude and i not in owned)


def party_lines(lines: Sequence[Line], labels: Sequence[str], carrier_labels: Collection[str]) -> set[int]:
    """Lines that start with a label of another party or field, and the lines under a caption of one."""
    if not labels:
        return set()
    combined, ordered = combined_regex(frozenset(lab.casefold() for lab in labels))
    carrier = {lab.casefold() for lab in carrier_labels}
    owned: set[int] = set()
    for i, line in enumerate(lines):
        for segment in line.segments:
            m = combined.match(segment.text)
            if not m or m.lastindex is None or ordered[m.lastindex - 1] in carrier:
                continue  # longest match wins: "Issued by" is the carrier's label, not "Issued"
            owned.add(i)
            if looks_like_label(segment.text, labels):  # a caption alone: its value is underneath
                reach = line.bottom + 5.0 * max(line.height, 6.0)
                owned.update(j for j in range(i + 1, min(i + 5, len(lines)))
                             if lines[j].page == line.page and lines[j].top <= reach)
    return owned


def _letterhead_under(lines: Sequence[Line], index: int, phrases: Sequence[str]) -> bool:
    """An insurer's letterhead under the heading: a NAIC company code, "A Stock Company"."""
    line = lines[index]
    for nxt in lines[index:index + 4]:
        if nxt.page != line.page or nxt.top - line.bottom > 5.0 * max(line.height, 6.0):
            break
        if _has_word(nxt.text.casefold(), phrases):
            return True
    return False
