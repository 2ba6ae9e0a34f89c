"""Reading order from word boxes: words -> lines -> segments (runs of words separated by wide gaps).

Works the same for pdfplumber words and OCR words, which is what lets one mapping layer serve both.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import median

from policy_ray.core.models import Page, Word


@dataclass(frozen=True)
class Segment:
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return self.words[-1].x1

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)

    @property
    def conf(self) -> float:
        return min(w.conf for w in self.words)

    @property
    def height(self) -> float:
        return median(w.height for w in self.words)


@dataclass(frozen=True)
class Line:
    page: int
    segments: tuple[Segment, ...]

    @property
    def words(self) -> tuple[Word, ...]:
        return tuple(w for s in self.segments for w in s.words)

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments)

    @property
    def top(self) -> float:
        return min(s.top for s in self.segments)

    @property
    def bottom(self) -> float:
        return max(s.bottom for s in self.segments)

    @property
    def height(self) -> float:
        return median(w.height for w in self.words)


def group_lines(words: Iterable[Word], page: int, *, gap_factor: float = 1.6) -> list[Line]:
    """Cluster words into lines by vertical overlap, then split each line at wide horizontal gaps."""
    ordered = sorted(words, key=lambda w: ((w.top + w.bottom) / 2, w.x0))
    rows: list[list[Word]] = []
    for word in ordered:
        mid = (word.top + word.bottom) / 2
        if rows:
            last = rows[-1]
            last_mid = median((w.top + w.bottom) / 2 for w in last)
            tolerance = max(2.0, 0.45 * median(w.height for w in last))
            if abs(mid - last_mid) <= tolerance:
                last.append(word)
                continue
        rows.append([word])
    return [Line(page=page, segments=tuple(split_segments(sorted(r, key=lambda w: w.x0), gap_factor)))
            for r in rows]


def split_segments(words: Sequence[Word], gap_factor: float) -> list[Segment]:
    if not words:
        return []
    # A gap wider than ~1.6 character heights separates columns; a normal space is ~0.3 of a height.
    segments: list[list[Word]] = [[words[0]]]
    for prev, word in itertools.pairwise(words):
        gap = word.x0 - prev.x1
        if gap > gap_factor * max(prev.height, word.height, 1.0):
            segments.append([word])
        else:
            segments[-1].append(word)
    return [Segment(tuple(s)) for s in segments]


def page_lines(page: Page) -> list[Line]:
    return group_lines(page.words, page.number)


def overlaps(a0: float, a1: float, b0: float, b1: float) -> float:
    """Length of the overlap of two intervals (0 when disjoint)."""
    return max(0.0, min(a1, b1) - max(a0, b0))
