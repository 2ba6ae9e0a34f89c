"""Render a declarations document: the carrier's layout followed by policy wording."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

from policy_ray.sample import draw
from policy_ray.sample.declaration import Declaration
from policy_ray.sample.layouts.registry import LAYOUTS
from policy_ray.sample.layouts.wording_pages import draw_wording_pages


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    pages: int


def render_declaration(dec: Declaration, rng: random.Random, wording_pages: int) -> RenderedPdf:
    layout = LAYOUTS[dec.carrier.key]
    total = layout.pages + wording_pages
    buf = io.BytesIO()
    canvas = draw.new_canvas(buf, "Policy Declarations", dec.carrier.name)
    layout.draw(canvas, dec, total)
    draw_wording_pages(canvas, rng, dec.carrier, layout.pages + 1, total, wording_pages)
    canvas.save()
    return RenderedPdf(buf.getvalue(), total)
