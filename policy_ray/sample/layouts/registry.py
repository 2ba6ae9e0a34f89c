"""Layout name -> (page count, page-drawing function)."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from reportlab.pdfgen.canvas import Canvas

from policy_ray.sample.declaration import Declaration
from policy_ray.sample.layouts import bluewater, cedar, harborline, northgate


class Layout(NamedTuple):
    pages: int
    draw: Callable[[Canvas, Declaration, int], None]


LAYOUTS: dict[str, Layout] = {
    "harborline": Layout(harborline.PAGES, harborline.draw_pages),
    "cedar": Layout(cedar.PAGES, cedar.draw_pages),
    "northgate": Layout(northgate.PAGES, northgate.draw_pages),
    "bluewater": Layout(bluewater.PAGES, bluewater.draw_pages),
}
