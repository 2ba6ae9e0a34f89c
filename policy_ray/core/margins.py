"""Running headers and footers: the few lines near a page's top and bottom edge.

A carrier prints its name there on every page of its wording; triage skips those pages, so their
header and footer travel in the raw payload as `RawExtraction.margins`, bounded here: runs of text whose
middle lies within TOP_BAND_SHARE of the page's height from its top edge or BOTTOM_BAND_SHARE from its
bottom edge, at most MAX_BAND_RUNS runs per edge, MAX_RUN_CHARS characters per run, MAX_MARGIN_PAGES
pages. The mapping sees a page's header and footer lines the same way whether the page was read in full
or skipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from policy_ray.core.layout import Line
from policy_ray.core.models import Page, RawExtraction, Word

# Shares of the page's height from the top and the bottom edge: on a letter page, 55 points (headers sit
# within three quarters of an inch of the edge, body text starts lower) and 79 points (footers reach an inch).
TOP_BAND_SHARE = 0.07
BOTTOM_BAND_SHARE = 0.1
MAX_BAND_RUNS = 8  # runs of text per edge and page kept in the payload
MAX_BAND_LINES = 3  # lines per edge and page the mapping reads
MAX_RUN_CHARS = 120
MAX_MARGIN_PAGES = 12  # skipped pages whose margins are kept (a carrier's footer repeats on each)


def in_band(top: float, bottom: float, height: float) -> str | None:
    """"top" or "bottom" for a box whose middle lies in that edge's band of a page this tall."""
    middle = (top + bottom) / 2
    if middle <= TOP_BAND_SHARE * height:
        return "top"
    if middle >= (1.0 - BOTTOM_BAND_SHARE) * height:
        return "bottom"
    return None


def band_lines(lines: Sequence[Line], heights: Mapping[int, float]) -> list[tuple[str, int]]:
    """("top" | "bottom", index into `lines`) of every page's header and footer lines, at most
    MAX_BAND_LINES per edge, those nearest the edge first. `heights`: page number -> page height."""
    by_page: dict[int, list[int]] = {}
    for i, line in enumerate(lines):
        by_page.setdefault(line.page, []).append(i)
    found: list[tuple[str, int]] = []
    for number in sorted(by_page):
        height = heights.get(number, 792.0)
        edges: dict[str, list[int]] = {"top": [], "bottom": []}
        for i in by_page[number]:
            edge = in_band(lines[i].top, lines[i].bottom, height)
            if edge is not None:
                edges[edge].append(i)
        found += [("top", i) for i in sorted(edges["top"], key=lambda i: lines[i].top)[:MAX_BAND_LINES]]
        found += [("bottom", i) for i in sorted(edges["bottom"], key=lambda i: -lines[i].bottom)[:MAX_BAND_LINES]]
    return found


def with_margins(raw: RawExtraction) -> list[Page]:
    """The read pages and the skipped pages' margins, in page order: what the mapping reads."""
    return sorted((*raw.pages, *raw.margins), key=lambda p: p.number)


def margin_page(number: int, width: float, height: float, runs: Sequence[tuple[str, float, float, float, float]]
                ) -> Page:
    """A skipped page's header and footer as a Page of runs (text, x0, top, x1, bottom), bounded."""
    edges: dict[str, list[Word]] = {"top": [], "bottom": []}
    for text, x0, top, x1, bottom in runs:
        edge = in_band(top, bottom, height)
        clean = " ".join(text.split())[:MAX_RUN_CHARS]
        if edge is not None and clean:
            edges[edge].append(Word(clean, round(x0, 2), round(top, 2), round(x1, 2), round(bottom, 2)))
    kept = [*sorted(edges["top"], key=lambda w: w.top)[:MAX_BAND_RUNS],
            *sorted(edges["bottom"], key=lambda w: -w.bottom)[:MAX_BAND_RUNS]]
    return Page(number=number, width=width, height=height, words=tuple(sorted(kept, key=lambda w: (w.top, w.x0))))
