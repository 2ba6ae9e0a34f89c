"""Finding labelled values on a page: "Policy Number: X", "Policy No." [gap] "X", or a box label with
its value underneath. Pure functions over lines of positioned words."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

from policy_ray.core.captions import (
    combined_regex,
    continues_caption,
    is_other_caption,
    label_regex,
    looks_like_label,
    split_at_labels,
    starts_with_label,
)
from policy_ray.core.confidence import UNDECIDED_NAME_END
from policy_ray.core.layout import Line, Segment, overlaps
from policy_ray.core.names import name_from_lines

__all__ = ["LabelHit", "find_label_values", "key_value_column", "label_regex", "split_at_labels"]


@dataclass(frozen=True)
class LabelHit:
    label: str
    value: str
    placement: str  # "inline" | "right" | "right_unseparated" | "below"
    page: int
    conf: float  # recognition confidence of the value's words (1.0 for a text layer)
    top: float
    x0: float = 0.0  # left edge of the value's cell (the label's segment for an inline value)
    line: int = -1  # index of the line the value starts on
    value_x0: float = 0.0  # left edge of the value's own first word
    quality: float = 1.0  # below 1 when the layout leaves open where the value ends (a wrapped name)


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
    name_block: bool = False,
) -> list[LabelHit]:
    """Every place one of `labels` (longest first) starts a segment, with the value it introduces.

    A label's value is looked for inline, then in the next cell, then under the label; the first
    place whose text `accept`s (parses as the field's type) wins. With `name_block`, a value is a name
    that may continue on the lines under it (see `policy_ray.core.names.name_from_lines`).
    """
    own = frozenset(lab.casefold() for lab in labels)
    combined, ordered = combined_regex(own | frozenset(lab.casefold() for lab in stop_labels))
    hits: list[LabelHit] = []
    for index, line in enumerate(lines):
        for seg_index, segment in enumerate(line.segments):
            m = combined.match(segment.text)
            if not m or m.lastindex is None:
                continue
            label = ordered[m.lastindex - 1]
            if label not in own:
                continue  # a longer label of another field starts here ("Insured Mailing Address")
            found = _values_for(lines, index, seg_index, segment, m.end(), label, stop_labels, whole_line,
                                page_width)
            if name_block:
                found = (h for h in (_with_name_block(lines, h, stop_labels) for h in found) if h is not None)
            hit = next((h for h in found if accept(h.value)), None)
            if hit:
                hits.append(hit)
    return hits


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
    if inline and not separated:
        qualified = re.match(r"^\([^()]*\)\s*[:#]\s*(.*)$", inline)
        if qualified:  # "Named Insured (First): X"
            inline, separated = qualified.group(1).strip(), True
        elif is_other_caption(inline, stop_labels):
            return  # "Carrier Code: 4471", "Insured Location: 45 Oak St": a different caption
        else:
            carries = continues_caption(inline, stop_labels)
            if carries is False:
                return  # "Insurance Company of the West": the label's words begin a name
            if carries:
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
            yield LabelHit(label, value, "inline", line.page, _conf_of(segment, rest), line.top, value_x0,
                           index, _inline_x0(segment, label_end))
    if inline and not whole_line:
        # "Named Insured: See Schedule", "Insurer Lakeshore Mutual": the label's value is on its line,
        # whether or not it parses; the next cell and the line below belong to something else.
        return
    below = _value_below(lines, index, segment, label, stop_labels)
    if rest and rest[0].x0 - segment.x1 < 0.4 * page_width:
        nxt = rest[0]
        # In a row of box captions ("Insured Name   Producing Broker"), the neighbour is another
        # caption, not a value: both have their values underneath.
        header_row = (not separated and below is not None and not any(c.isdigit() for c in nxt.text)
                      and _value_below(lines, index, nxt, "", stop_labels) is not None)
        value = _strip_other_labels(nxt.text, stop_labels)
        if (value and not header_row and not looks_like_label(value, stop_labels)
                and not is_other_caption(nxt.text, stop_labels)):
            placement = "right" if separated else "right_unseparated"
            yield LabelHit(label, value, placement, line.page, nxt.conf, line.top, nxt.x0, index, nxt.x0)
    if below is not None:
        yield below


def _inline_x0(segment: Segment, label_end: int) -> float:
    """Left edge of the first word that starts after the label's text."""
    offset = 0
    for word in segment.words:
        if offset >= label_end:
            return word.x0
        offset += len(word.text) + 1
    return segment.x1


def _value_below(
    lines: Sequence[Line], index: int, label_seg: Segment, label: str, stop_labels: Sequence[str]
) -> LabelHit | None:
    line = lines[index]
    reach = 2.6 * max(line.height, 6.0)
    left, right = _caption_column(line, label_seg)
    for below_index in range(index + 1, min(index + 4, len(lines))):
        below = lines[below_index]
        if below.page != line.page or below.top - line.bottom > reach:
            return None
        for whole in below.segments:
            # Captions typed in one run have their values in columns: a value is the part of a cell
            # that stands under its own caption.
            words = tuple(w for w in whole.words if left <= (w.x0 + w.x1) / 2 < right)
            if not words:
                continue
            seg = Segment(words)
            # The value sits under the label: starts near the label's left edge and overlaps it.
            # Directly under the label, or indented a little to its right (form boxes).
            aligned = abs(seg.x0 - label_seg.x0) <= max(12.0, 1.5 * line.height)
            indented = label_seg.x0 <= seg.x0 <= label_seg.x1 + 40.0
            if (aligned and overlaps(seg.x0, seg.x1, label_seg.x0, label_seg.x1) > 0) or indented:
                if looks_like_label(seg.text, stop_labels) or is_other_caption(seg.text, stop_labels):
                    return None
                value = _strip_other_labels(seg.text, stop_labels)
                return (LabelHit(label, value, "below", line.page, seg.conf, below.top, seg.x0, below_index, seg.x0)
                        if value else None)
    return None


def _caption_column(line: Line, label_seg: Segment) -> tuple[float, float]:
    """The x-range of a caption's values when its neighbours on the line were typed in the same run
    (no column gap between them); unbounded otherwise."""
    segments = line.segments
    i = next((k for k, s in enumerate(segments) if s is label_seg), -1)
    if i < 0:
        return float("-inf"), float("inf")
    close = 1.6 * max(line.height, 1.0)
    left, right = float("-inf"), float("inf")
    if i > 0 and label_seg.x0 - segments[i - 1].x1 <= close:
        left = segments[i - 1].x1
    if i + 1 < len(segments) and segments[i + 1].x0 - label_seg.x1 <= close:
        right = segments[i + 1].x0
    return left, right


def _with_name_block(lines: Sequence[Line], hit: LabelHit, stop_labels: Sequence[str]) -> LabelHit | None:
    """The hit's value as a name: joined with the lines that continue it, its end decided or not."""
    more = _lines_under(lines, hit.line, hit.value_x0, stop_labels) if hit.line >= 0 else []
    block = name_from_lines([hit.value, *more])
    if block.name is None:
        return None
    return replace(hit, value=block.name, quality=1.0 if block.decided else UNDECIDED_NAME_END)


def _lines_under(lines: Sequence[Line], index: int, x0: float, stop_labels: Sequence[str]) -> list[str]:
    """Texts of the lines right under line `index` that start at `x0` in the same print size: a block."""
    found: list[str] = []
    previous = lines[index]
    height = next((w.height for w in previous.words if abs(w.x0 - x0) < 0.5), previous.height)
    for nxt in lines[index + 1:index + 6]:
        if nxt.page != previous.page or nxt.top - previous.bottom > 0.8 * max(height, 6.0):
            break
        seg = next((s for s in nxt.segments if abs(s.x0 - x0) <= max(2.5, 0.3 * height)), None)
        if seg is None or abs(seg.height - height) > 0.35 * height or starts_with_label(seg.text, stop_labels):
            break
        if any(s.x1 <= x0 and starts_with_label(s.text, stop_labels) for s in nxt.segments):
            break  # the next row of a label-value grid ("Policy Number:   CPP 0042"), not more of the name
        found.append(seg.text)
        previous = nxt
    return found


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


def _conf_of(segment: Segment, rest: Sequence[Segment]) -> float:
    return min([segment.conf, *(s.conf for s in rest)])
