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
    """Cluster words into lines by vertical overlap, then split each line at wide horizontal gaps.

    Words are taken top to bottom by their middle. A word joins one of the last few lines when its
    middle lies near both the line's median middle and the middle of the line's word nearest it
    across the page (the closest such line wins), else it starts a line. The second test keeps two
    lines of a slightly skewed scan apart where they come within a few points of each other at one
    end of the page: the line's far end no longer drags the next line's words into it. An OCR word
    whose box spans a whole line and is much taller also joins it (`_Row.enclosed_by`).
    """
    rows: list[_Row] = []
    for word in sorted(words, key=lambda w: (_mid(w), w.x0)):
        mid = _mid(word)
        best: _Row | None = None
        best_gap = 0.0
        for row in rows[-_OPEN_ROWS:]:
            if abs(mid - row.median_mid) <= row.tolerance:
                gap = abs(mid - _mid(row.nearest(word)))
                if gap > row.tolerance:
                    continue
            elif word.conf < 1.0 and row.enclosed_by(word):  # OCR boxes only: a text layer's are the font's
                gap = abs(mid - row.median_mid)
            else:
                continue
            if best is None or gap < best_gap:
                best, best_gap = row, gap
        if best is None:
            rows.append(_Row(word))
        else:
            best.add(word)
    return [Line(page=page, segments=tuple(split_segments(sorted(r.words, key=lambda w: w.x0), gap_factor)))
            for r in rows]


_OPEN_ROWS = 3  # lines a word may still join: the ones whose middles are nearest above it


def _mid(word: Word) -> float:
    return (word.top + word.bottom) / 2


class _Row:
    """A line being built: its words, their median middle, and how far a word's middle may lie from
    it (0.45 of the line's median word height, at least 2 pt)."""

    def __init__(self, word: Word) -> None:
        self.words = [word]
        self.median_mid = _mid(word)
        self.tolerance = max(2.0, 0.45 * word.height)

    def add(self, word: Word) -> None:
        self.words.append(word)
        self.median_mid = median(_mid(w) for w in self.words)
        self.tolerance = max(2.0, 0.45 * median(w.height for w in self.words))

    def enclosed_by(self, word: Word) -> bool:
        """`word`'s box spans the whole line and is much taller: an OCR box that took in specks or
        strokes above and below its word ("Heating" 15 pt tall on a line of 7 pt words)."""
        top = median(w.top for w in self.words)
        bottom = median(w.bottom for w in self.words)
        return word.top <= top + 1.0 and word.bottom >= bottom - 1.0 and word.height >= 1.6 * (bottom - top)

    def nearest(self, word: Word) -> Word:
        """The line's word horizontally nearest `word` (distance between their boxes, 0 if they overlap)."""
        return min(self.words, key=lambda w: max(w.x0 - word.x1, word.x0 - w.x1, 0.0))


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
