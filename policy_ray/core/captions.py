"""Captions: where labels start inside a run of text, and whether words next to a label are another
caption rather than its value. Pure functions over positioned words."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from policy_ray.core.layout import Line, Segment


@lru_cache(maxsize=512)
def label_regex(label: str) -> re.Pattern[str]:
    words = [re.escape(w).replace("'", "['’]") for w in label.split()]
    body = r"\s*".join(words) if len(words) == 1 else r"\s+".join(words)
    # A label starts its segment and ends at a word boundary, optionally followed by ':' '#' or '.'.
    # A label that ends in punctuation ("Policy #") may have its value glued on ("Policy #BWS-1").
    # A label is never the start of a longer token: "Insurer" does not match "INSURER(S)" or "Insurer's".
    boundary = "" if not label[-1:].isalnum() else "(?![A-Za-z0-9(’'])"
    return re.compile(rf"(?i)^\s*{body}{boundary}\s*[:#.]?\s*")


@lru_cache(maxsize=256)
def combined_regex(labels: frozenset[str]) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """One alternation of every label, longest first: a segment is matched once, not once per label."""
    ordered = tuple(sorted(labels, key=lambda lab: (-len(lab), lab)))
    parts = [f"({label_regex(lab).pattern.removeprefix('(?i)^')})" for lab in ordered]
    return re.compile("(?i)^(?:" + "|".join(parts) + ")"), ordered


def split_at_labels(lines: Sequence[Line], labels: Iterable[str], *, qualifiers: Iterable[str] = (),
                    row_labels: Iterable[str] = ()) -> list[Line]:
    """Split a segment where a label starts inside it, so that each label starts a segment of its own,
    as it would had the layout left a wider gap:

    - a label with a colon inside a run ("Eff. Date: 02/10/2026 Exp. Date: 02/10/2027"), unless a
      qualifier precedes it ("Additional Insured:", "Prior Policy Number:" name other parties and
      policies) or it is part of a longer label ("Named Insured:");
    - a run made only of field captions ("POLICY NUMBER EFFECTIVE DATE EXPIRATION DATE"), whose values
      stand in columns underneath.
    """
    combined, _ = combined_regex(frozenset(lab.casefold() for lab in labels))
    row, _ = combined_regex(frozenset(lab.casefold() for lab in row_labels))
    quals = frozenset(q.casefold() for q in qualifiers)
    out: list[Line] = []
    for line in lines:
        segments: list[Segment] = []
        for segment in line.segments:
            segments.extend(_caption_row(segment, row) or _split_segment(segment, combined, quals))
        out.append(line if len(segments) == len(line.segments) else Line(line.page, tuple(segments)))
    return out


def _split_segment(segment: Segment, combined: re.Pattern[str], qualifiers: frozenset[str]) -> list[Segment]:
    words = segment.words
    starts: list[int] = []
    i = 0
    while i < len(words):
        m = combined.match(" ".join(w.text for w in words[i:]))
        if m is None:
            i += 1
            continue
        previous = words[i - 1].text.strip(",;:").casefold() if i > 0 else ""
        if i > 0 and ":" in m.group(0) and previous not in qualifiers:
            starts.append(i)
        i += max(1, len(m.group(0).split()))  # skip the label's own words: "Insured" in "Named Insured"
    if not starts:
        return [segment]
    bounds = [0, *starts, len(words)]
    return [Segment(words[a:b]) for a, b in itertools.pairwise(bounds)]


def _caption_row(segment: Segment, row: re.Pattern[str]) -> list[Segment] | None:
    """The segment split into captions, when it is nothing but two or more field captions."""
    words = segment.words
    starts: list[int] = []
    i = 0
    while i < len(words):
        m = row.match(" ".join(w.text for w in words[i:]))
        if m is None or ":" in m.group(0):
            return None
        starts.append(i)
        i += max(1, len(m.group(0).split()))
    if len(starts) < 2:
        return None
    bounds = [*starts, len(words)]
    return [Segment(words[a:b]) for a, b in itertools.pairwise(bounds)]


# ---- is this text a caption? -------------------------------------------------------------------------

CAPTION_CONNECTORS = frozenset({"and", "&", "or", "of", "/", "+", "and/or"})
_STOPWORDS = frozenset({"the", "a", "an", "of", "and", "&", "or", "for", "to", "in", "on", "at", "by"})
# "Carrier Code:", "Location:", "Full Name:": words that end in a colon caption a value of their own.
_CAPTION_PREFIX = re.compile(r"^([A-Za-z][\w'’./&-]*(?:\s+[A-Za-z][\w'’./&-]*){0,3})\s*[:#]")
# ... except the words of a range ("Policy Period From: 01/05/2026 To: 01/05/2027").
_RANGE_WORDS = frozenset({"from", "to", "thru", "through", "between", "at", "on", "as", "of", "effective"})


@lru_cache(maxsize=64)
def caption_vocabulary(labels: tuple[str, ...]) -> frozenset[str]:
    """Words captions are made of (every word of every known label, less the little words)."""
    words = {re.sub(r"[^a-z0-9]", "", w.casefold()) for lab in labels for w in lab.split()}
    return frozenset(w for w in words if w and w not in _STOPWORDS)


def is_other_caption(text: str, labels: Sequence[str]) -> bool:
    """Whether text starts a caption of its own ("Code: 4471", "Location: 45 Oak St", "Mailing Address:")
    rather than being a value."""
    m = _CAPTION_PREFIX.match(text)
    if m and m.group(1).split()[0].casefold() not in _RANGE_WORDS:
        return True
    return any((lm := label_regex(lab).match(text)) is not None and ":" in lm.group(0) for lab in labels)


def continues_caption(text: str, labels: Sequence[str]) -> bool | None:
    """Words right after a label, with no colon between: True when they carry the caption on ("... and
    Mailing Address", "... & Principal Address", "(First)"); False when they carry a name on ("Insurance
    Company" + "of the West"); None when they are neither (a value, perhaps)."""
    stripped = text.strip()
    if re.fullmatch(r"\([^()]*\)", stripped):
        return True
    first = stripped.split(maxsplit=1)[0].casefold()
    if not (first in CAPTION_CONNECTORS or first.startswith(("&", "/"))):
        return None
    vocabulary = caption_vocabulary(tuple(labels))
    rest = {re.sub(r"[^a-z0-9]", "", w.casefold()) for w in re.split(r"[\s/&]+", stripped)}
    return bool(rest & vocabulary)


def looks_like_label(text: str, labels: Sequence[str]) -> bool:
    """A caption, not a value: a known label with at most a letter or punctuation after it ('INSURER B :')."""
    for label in labels:
        m = label_regex(label).match(text)
        if m and len(text[m.end():].strip(" :#.")) <= 1:
            return True
    return False


def starts_with_label(text: str, labels: Sequence[str]) -> bool:
    return any(label_regex(label).match(text) for label in labels)
