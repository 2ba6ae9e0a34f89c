"""Line grouping: words -> lines -> segments, for text-layer words and OCR words alike."""

from __future__ import annotations

from policy_ray.core.layout import group_lines
from policy_ray.core.models import Word


def _texts(words: list[Word]) -> list[str]:
    return [line.text for line in group_lines(words, 1)]


def test_words_on_one_baseline_form_one_line_split_at_column_gaps() -> None:
    words = [Word("Policy", 48, 100, 74, 107), Word("No.", 77, 100, 91, 107), Word("AB-1", 140, 100, 160, 107),
             Word("Agent:", 340, 100, 368, 107)]
    lines = group_lines(words, 1)
    assert len(lines) == 1
    assert [s.text for s in lines[0].segments] == ["Policy No.", "AB-1", "Agent:"]


def test_lines_a_few_points_apart_stay_apart_on_a_scan() -> None:
    """Word boxes as Tesseract gave them on a deskewed 200 dpi scan: a right-hand field sits 3 pt above
    the left-hand line under it. Grouping by the line's median middle alone pulled the left line's
    last words into the right-hand field's line and lost the expiration date."""
    issued = [Word("Date", 340.6, 201.6, 359.3, 208.4), Word("Issued:", 362.5, 201.6, 393.1, 208.4),
              Word("August", 400.3, 202.0, 426.2, 210.2), Word("7,", 428.8, 202.3, 434.9, 209.5),
              Word("2027", 438.5, 202.3, 457.2, 208.4)]
    expiration = [Word("Expiration", 48.6, 204.8, 91.4, 213.5), Word("Date:", 95.0, 204.8, 116.6, 211.7),
                  Word("September", 140.8, 204.8, 184.3, 213.5), Word("13,", 187.6, 205.2, 198.4, 212.8),
                  Word("2028", 202.0, 205.2, 221.8, 211.7)]
    assert _texts([*issued, *expiration]) == ["Date Issued: August 7, 2027", "Expiration Date: September 13, 2028"]


def test_a_word_set_a_little_low_still_joins_its_line() -> None:
    """A form's cell text sits a point or two off its row's baseline: still the same line."""
    words = [Word("OWNED", 100, 408.8, 130, 414.0), Word("A", 60, 410.0, 66, 415.5),
             Word("BA-2465995", 200, 409.5, 250, 415.2)]
    assert _texts(words) == ["A OWNED BA-2465995"]


def test_a_tall_ocr_box_around_a_word_joins_the_line_it_spans() -> None:
    """Tesseract's box for a word sometimes takes in specks above and below it (15 pt on a line of
    7 pt words): its middle lies off the line's, yet it belongs to the line it spans."""
    words = [Word("Insured:", 48.4, 152.8, 82.8, 159.5, 0.92), Word("Tidewater", 140.3, 151.8, 179.1, 165.9, 0.96),
             Word("Plumbing", 182.7, 153.2, 218.9, 160.5, 0.93), Word("&", 222.3, 153.0, 227.6, 159.4, 0.93),
             Word("Heating", 231.0, 151.7, 260.9, 166.8, 0.96), Word("LLC", 264.5, 153.0, 280.1, 159.4, 0.91),
             Word("Ostervale,", 390.4, 158.3, 427.7, 164.1, 0.41), Word("OH", 431.4, 157.9, 442.8, 164.1, 0.96)]
    assert _texts(words) == ["Insured: Tidewater Plumbing & Heating LLC", "Ostervale, OH"]


def test_only_ocr_boxes_are_taken_as_taller_than_their_word() -> None:
    """A text layer's boxes are the font's: a tall one is a large word of its own line, not a speck."""
    small = [Word("Form", 48, 50, 70, 57), Word("BP-1", 74, 50, 96, 57)]
    assert _texts([*small, Word("RIDER", 300, 48, 380, 70)]) == ["Form BP-1", "RIDER"]
    assert _texts([*small, Word("RIDER", 300, 48, 380, 70, 0.9)]) == ["Form BP-1 RIDER"]
