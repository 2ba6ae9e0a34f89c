"""Two-column policy wording pages that follow a declarations page."""

from __future__ import annotations

import random

from reportlab.pdfgen.canvas import Canvas

from policy_ray.sample import draw
from policy_ray.sample.carriers import Carrier
from policy_ray.sample.wording import Block, blocks

TOP = 730.0
BOTTOM = 60.0
GUTTER = 18.0
LEFT = 48.0
COL_W = (draw.PAGE_W - 2 * LEFT - GUTTER) / 2
STYLES = {"section": (draw.BOLD, 9.0, 14.0), "heading": (draw.BOLD, 8.0, 12.0), "para": (draw.REGULAR, 8.0, 9.6)}


def _block_lines(block: Block) -> tuple[str, float, float, list[str]]:
    font, size, leading = STYLES[block.style]
    return font, size, leading, draw.wrap(block.text, COL_W, size, font)


def draw_wording_pages(c: Canvas, rng: random.Random, carrier: Carrier, first_page: int, total: int,
                       count: int) -> None:
    """Draw `count` full pages of wording; each page ends with showPage()."""
    stream = blocks(rng)
    pending: Block | None = None
    for page in range(first_page, first_page + count):
        draw.put(c, LEFT, 760, carrier.name, 7.5, draw.BOLD)
        draw.put_right(c, draw.PAGE_W - LEFT, 760, carrier.wording_title, 7.5, draw.BOLD)
        c.setLineWidth(0.5)
        c.line(LEFT, 754, draw.PAGE_W - LEFT, 754)
        column, y = 0, TOP
        while column < 2:
            block = pending or next(stream)
            pending = None
            font, size, leading, texts = _block_lines(block)
            # Keep a heading with at least two lines of what follows; otherwise break column.
            needed = leading * (len(texts) if block.style == "para" else len(texts) + 2)
            if y - needed < BOTTOM and not (block.style == "para" and y - 3 * leading >= BOTTOM):
                pending, column, y = block, column + 1, TOP
                continue
            x = LEFT + column * (COL_W + GUTTER)
            if block.style == "section":
                y -= 4
            for i, text in enumerate(texts):
                if y < BOTTOM:  # a long paragraph continues in the next column
                    pending = Block("para", " ".join(texts[i:]))
                    break
                draw.put(c, x, y, text, size, font)
                y -= leading
            else:
                y -= 3
                continue
            column, y = column + 1, TOP
        draw.footer(c, carrier.wording_form, page, total)
        c.showPage()
