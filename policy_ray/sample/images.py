"""Scans delivered as image files rather than PDFs: multi-page TIFF, PNG and JPEG."""

from __future__ import annotations

import io

from PIL import Image

from policy_ray.sample.scan import DPI

BILEVEL_THRESHOLD = 150


def tiff(pages: list[Image.Image]) -> bytes:
    """Bilevel CCITT Group 4, as document scanners and fax servers write TIFFs."""
    bilevel = [p.point(lambda v: 255 if v > BILEVEL_THRESHOLD else 0, mode="1") for p in pages]
    buf = io.BytesIO()
    bilevel[0].save(buf, format="TIFF", save_all=True, append_images=bilevel[1:], compression="group4",
                    dpi=(DPI, DPI))
    return buf.getvalue()


def png(page: Image.Image) -> bytes:
    buf = io.BytesIO()
    page.save(buf, format="PNG", dpi=(DPI, DPI), compress_level=3)
    return buf.getvalue()


def jpeg(page: Image.Image) -> bytes:
    buf = io.BytesIO()
    page.save(buf, format="JPEG", quality=80, dpi=(DPI, DPI))
    return buf.getvalue()
