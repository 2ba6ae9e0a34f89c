"""Finding labelled values on a page: "Policy Number: X", "Policy No." [gap] "X", or a box label with
its value underneath. Pure functions over lines of positioned words."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from policy_ray.core.layout import Line, Segment, overlaps


@dataclass(frozen=True)
class LabelHit:
    label: str
    value: str
    placement: str  # "inline" | "right" | "below"
    page: int
    conf: float  # recognition confidence of the value's words (1.0 for a text layer)
    top: float
    x0: float = 0.0  # left edge of the value's cell (the label's segment for an inline value)


@lru_cache(maxsize=512)
def label_regex(label: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in label.split()]
    body = r"\s*".join(words) if len(words) == 1 else r"\s+".join(words)
    # A label starts its segment and ends at a word boundary, optionally followed by ':' '#' or '.'.
    # A label that ends in punctuation ("Policy #") may have its value glued on ("Policy #BWS-1").
    boundary = "" if not label[-1:].isalnum() else "(?![A-Za-z0-9])"
    return re.compile(rf"(?i)^\s*{body}{boundary}\s*[:#.]?\s*")


def _strip_other_labels(value: str, stop_labels: Sequence[str]) -> str:
    """Cut the value where another field's label begins ("X   Named Insured: Y" -> "X")."""
    cut = len(value)
    for label in stop_labels:
        body = r"\s+".join(re.escape(w) for w in label.split())
        m = re.search(rf"(?i)(?<![A-Za-z]){body}\s*[:#]", value)
        if m and m.start() > 0:
            cut = min(cut, m.start())
    return value[:cut].strip(" :;,")


def find_label_values(
    lines: Sequence[Line],
    labels: Iterable[str],
    *,
    stop_labels: Sequence[str] = (),
    whole_line: bool = False,
    page_width: float = 612.0,
    accept: Callable[[str], bool] = bool,
) -> list[LabelHit]:
    """Every place one of `labels` (longest first) starts a segment, with the value it introduces.

    A label's value is looked for inline, then in the next cell, then under the label; the first
    place whose text `accept`s (parses as the field's type) wins.
    """
    own = frozenset(lab.casefold() for lab in labels)
    combined, ordered = _combined_regex(own | frozenset(lab.casefold() for lab in stop_labels))
    hits: list[LabelHit] = []
    for index, line in enumerate(lines):
        for seg_index, segment in enumerate(line.segments):
            m = combined.match(segment.text)
            if not m or m.lastindex is None:
                continue
            label = ordered[m.lastindex - 1]
            if label not in own:
                continue  # a longer label of another field starts here ("Insured Mailing Address")
            hit = next((h for h in _values_for(lines, index, seg_index, segment, m.end(), label, stop_labels,
                                               whole_line, page_width) if accept(h.value)), None)
            if hit:
                hits.append(hit)
    return hits


def split_at_labels(lines: Sequence[Line], labels: Iterable[str]) -> list[Line]:
    """Split a segment where a label with a colon starts inside it ("Eff. Date: 02/10/2026 Exp. Date:
    02/10/2027" set with ordinary spaces): each label then starts a segment of its own, as it would
    had the layout left a wider gap. Labels inside a longer label ("Named Insured:") are not split off."""
    combined, _ = _combined_regex(frozenset(lab.casefold() for lab in labels))
    out: list[Line] = []
    for line in lines:
        segments: list[Segment] = []
        for segment in line.segments:
            segments.extend(_split_segment(segment, combined))
        out.append(line if len(segments) == len(line.segments) else Line(line.page, tuple(segments)))
    return out


def _split_segment(segment: Segment, combined: re.Pattern[str]) -> list[Segment]:
    words = segment.words
    starts: list[int] = []
    i = 0
    while i < len(words):
        m = combined.match(" ".join(w.text for w in words[i:]))
        if m is None:
            i += 1
            continue
        if i > 0 and ":" in m.group(0):
            starts.append(i)
        i += max(1, len(m.group(0).split()))  # skip the label's own words: "Insured" in "Named Insured"
    if not starts:
        return [segment]
    bounds = [0, *starts, len(words)]
    return [Segment(words[a:b]) for a, b in itertools.pairwise(bounds)]


@lru_cache(maxsize=256)
def _combined_regex(labels: frozenset[str]) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """One alternation of every label, longest first: a segment is matched once, not once per label."""
    ordered = tuple(sorted(labels, key=lambda lab: (-len(lab), lab)))
    parts = [f"({label_regex(lab).pattern.removeprefix('(?i)^')})" for lab in ordered]
    return re.compile("(?i)^(?:" + "|".join(parts) + ")"), ordered


def _values_for(
    lines: Sequence[Line],
    index: int,
    seg_index: int,
    segment: Segment,
    label_end: int,
    label: str,
    stop_labels: Sequence[str],
    whole_line: bool,
    page_width: float,
) -> Iterator[LabelHit]:
    line = lines[index]
    inline = segment.text[label_end:].strip()
    rest = line.segments[seg_index + 1:]
    separated = segment.text[:label_end].rstrip()[-1:] in (":", "#", ".")
    if inline and not separated and _continues_caption(inline):
        # "NAMED INSURED AND MAILING ADDRESS": a longer caption this label only begins. Its value is
        # underneath (or in the next cell), never the caption's own remaining words.
        inline = ""
    value_x0 = segment.x0
    if whole_line and rest:
        if not inline:
            value_x0 = rest[0].x0  # the value is the next cell's
        # A period's two dates may sit in separate cells; stop at the next label on the line.
        tail = []
        for seg in rest:
            if any(label_regex(lab).match(seg.text) for lab in stop_labels):
                break
            tail.append(seg.text)
        inline = " ".join([inline, *tail]).strip()
    if inline and not separated and not (inline[:1].isupper() or inline[:1].isdigit() or inline[:1] in "$€£#("):
        return  # "the Named Insured shown above": the words of a label inside prose
    if inline:
        value = _strip_other_labels(inline, stop_labels)
        if value:
            yield LabelHit(label, value, "inline", line.page, _conf_of(segment, rest), line.top, value_x0)
    below = _value_below(lines, index, segment, label, stop_labels)
    if rest and rest[0].x0 - segment.x1 < 0.4 * page_width:
        nxt = rest[0]
        # In a row of box captions ("Insured Name   Producing Broker"), the neighbour is another
        # caption, not a value: both have their values underneath.
        header_row = (not separated and below is not None and not any(c.isdigit() for c in nxt.text)
                      and _value_below(lines, index, nxt, "", stop_labels) is not None)
        value = _strip_other_labels(nxt.text, stop_labels)
        if value and not header_row and not _looks_like_label(value, stop_labels):
            placement = "right" if separated else "right_unseparated"
            yield LabelHit(label, value, placement, line.page, nxt.conf, line.top, nxt.x0)
    if below is not None:
        yield below


def _value_below(
    lines: Sequence[Line], index: int, label_seg: Segment, label: str, stop_labels: Sequence[str]
) -> LabelHit | None:
    line = lines[index]
    reach = 2.6 * max(line.height, 6.0)
    for below in lines[index + 1:index + 4]:
        if below.page != line.page or below.top - line.bottom > reach:
            return None
        for seg in below.segments:
            # The value sits under the label: starts near the label's left edge and overlaps it.
            # Directly under the label, or indented a little to its right (form boxes).
            aligned = abs(seg.x0 - label_seg.x0) <= max(12.0, 1.5 * line.height)
            indented = label_seg.x0 <= seg.x0 <= label_seg.x1 + 40.0
            if (aligned and overlaps(seg.x0, seg.x1, label_seg.x0, label_seg.x1) > 0) or indented:
                if _looks_like_label(seg.text, stop_labels):
                    return None
                value = _strip_other_labels(seg.text, stop_labels)
                return LabelHit(label, value, "below", line.page, seg.conf, below.top, seg.x0) if value else None
    return None


CAPTION_CONNECTORS = frozenset({"and", "&", "or", "of", "/", "+", "and/or"})


def _continues_caption(text: str) -> bool:
    """Whether words after a label carry the caption on ("... and Mailing Address", "... & Address")."""
    first = text.split(maxsplit=1)[0].casefold()
    return first in CAPTION_CONNECTORS or first.startswith(("&", "/"))


def key_value_column(hits: Iterable[LabelHit], *, min_rows: int = 3, tolerance: float = 2.0) -> set[LabelHit]:
    """Hits whose values, to the right of labels with no colon, line up in one column with those of at
    least `min_rows - 1` other labels on the same page: a key-value grid ("POLICY NO   TX-2093"), where
    the unseparated neighbour is the label's value and not a second caption."""
    beside = [h for h in hits if h.placement != "below"]
    column: set[LabelHit] = set()
    for hit in (h for h in beside if h.placement == "right_unseparated"):
        peers = [h for h in beside if h.page == hit.page and abs(h.x0 - hit.x0) <= tolerance]
        if len({h.label for h in peers}) >= min_rows and len({h.top for h in peers}) >= min_rows:
            column.add(hit)
    return column


def _looks_like_label(text: str, stop_labels: Sequence[str]) -> bool:
    """A caption, not a value: a known label with at most a letter or punctuation after it ('INSURER B :')."""
    for label in stop_labels:
        m = label_regex(label).match(text)
        if m and len(text[m.end():].strip(" :#.")) <= 1:
            return True
    return False


def _conf_of(segment: Segment, rest: Sequence[Segment]) -> float:
    return min([segment.conf, *(s.conf for s in rest)])
