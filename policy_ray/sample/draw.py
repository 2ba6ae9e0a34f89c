"""Deterministic reportlab canvases and the small text primitives the layouts share."""

from __future__ import annotations

from functools import lru_cache
from typing import BinaryIO

from reportlab.lib.pagesizes import letter
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

PAGE_W, PAGE_H = letter
REGULAR = "Helvetica"
BOLD = "Helvetica-Bold"
ITALIC = "Helvetica-Oblique"


def new_canvas(out: BinaryIO, title: str, author: str, pagesize: tuple[float, float] = letter) -> Canvas:
    # invariant=1 pins the creation date and document ID, so output is byte-stable.
    canvas = Canvas(out, pagesize=pagesize, invariant=1, pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor(author)
    canvas.setCreator("policy-ray sample generator")
    return canvas


def put(c: Canvas, x: float, y: float, text: str, size: float = 9, font: str = REGULAR) -> float:
    """Draw left-aligned text; return the x just after it."""
    c.setFont(font, size)
    c.drawString(x, y, text)
    return x + text_width(text, font, size)


def put_right(c: Canvas, x: float, y: float, text: str, size: float = 9, font: str = REGULAR) -> None:
    c.setFont(font, size)
    c.drawRightString(x, y, text)


def put_center(c: Canvas, x: float, y: float, text: str, size: float = 9, font: str = REGULAR) -> None:
    c.setFont(font, size)
    c.drawCentredString(x, y, text)


def labelled(c: Canvas, x: float, y: float, label: str, value: str, size: float = 9) -> float:
    """'Label: value' on one line, label in bold, one space between them; return the value's x."""
    start = put(c, x, y, label, size, BOLD) + text_width(" ", REGULAR, size)
    put(c, start, y, value, size)
    return start


def lines(c: Canvas, x: float, y: float, texts: list[str], size: float = 9, leading: float = 11,
          font: str = REGULAR) -> float:
    """Draw a block of lines downwards; return the y below the block."""
    for text in texts:
        put(c, x, y, text, size, font)
        y -= leading
    return y


@lru_cache(maxsize=1 << 16)
def text_width(text: str, font: str, size: float) -> float:
    return float(stringWidth(text, font, size))


def wrap(text: str, width: float, size: float, font: str = REGULAR) -> list[str]:
    """Greedy word wrap; word widths are cached because wording pages wrap a lot of prose."""
    space = text_width(" ", font, size)
    result: list[str] = []
    line: list[str] = []
    used = 0.0
    for word in text.split():
        word_w = text_width(word, font, size)
        if line and used + space + word_w > width:
            result.append(" ".join(line))
            line, used = [], 0.0
        used += (space if line else 0.0) + word_w
        line.append(word)
    if line:
        result.append(" ".join(line))
    return result


def footer(c: Canvas, form_code: str, page: int, total: int) -> None:
    put(c, 48, 30, form_code, 7.5)
    put_right(c, PAGE_W - 48, 30, f"Page {page} of {total}", 7.5)
