"""Headers and footers: the lines near a page's edges, the same whether the page was read in full or
only its margins travelled (a page triage skipped), and bounded."""

from __future__ import annotations

from policy_ray.core.layout import Line, group_lines
from policy_ray.core.margins import MAX_BAND_LINES, MAX_BAND_RUNS, band_lines, in_band, margin_page
from policy_ray.core.models import Word
from tests.core.words import line


def test_only_lines_near_the_edges_are_headers_and_footers() -> None:
    assert in_band(20, 30, 792) == "top"
    assert in_band(720, 732, 792) == "bottom"  # a footer an inch from the bottom edge
    assert in_band(80, 90, 792) is None and in_band(400, 410, 792) is None


def test_band_lines_of_a_read_page_and_of_a_skipped_pages_margins_agree() -> None:
    header = line(30, (48, "Lakeshore Mutual Insurance Company"), (420, "POLICY WORDING"), size=7.5)
    footer = line(752, (48, "LMI-W-200"), (520, "Page 3 of 9"), size=7.5)
    body = line(300, (48, "We will pay for direct physical loss of or damage to covered property."))
    read = group_lines([*header, *body, *footer], 3)
    runs = [(" ".join(w.text for w in ws), ws[0].x0, ws[0].top, ws[-1].x1, ws[-1].bottom)
            for ws in (header[:4], header[4:], footer[:1], footer[1:], body)]
    skipped = group_lines(margin_page(3, 612, 792, runs).words, 3)

    def texts(lines: list[Line]) -> list[tuple[str, list[str]]]:
        return [(edge, [s.text for s in lines[i].segments]) for edge, i in band_lines(lines, {3: 792})]

    assert texts(read) == texts(skipped) == [
        ("top", ["Lakeshore Mutual Insurance Company", "POLICY WORDING"]), ("bottom", ["LMI-W-200", "Page 3 of 9"])]


def test_margins_are_bounded() -> None:
    runs = [(f"run {i} " + "x" * 300, 48.0, 10.0 + i, 100.0, 18.0 + i) for i in range(30)]
    page = margin_page(5, 612, 792, runs)
    assert len(page.words) == MAX_BAND_RUNS and all(len(w.text) <= 120 for w in page.words)
    many = group_lines([Word(f"line{i}", 48, 750 + 4 * i, 90, 753 + 4 * i) for i in range(8)], 1)
    assert len(band_lines(many, {1: 792})) == MAX_BAND_LINES
