"""Turn a digital PDF into what a scanner would produce: grey, noisy, slightly skewed images."""

from __future__ import annotations

import io
import random
import time

import numpy as np
import pypdfium2 as pdfium
from PIL import Image

DPI = 200
PAPER_WHITE = 244  # scanned paper is never pure white
INK_BLACK = 22
NOISE = 12  # +/- grey levels of per-pixel sensor noise
WHITE_POINT = 232
DUST_SHARE = 0.0003
DUST_GREY = 90
# Paper is never pure white and toner never pure black.
TONE_CURVE = (np.arange(256, dtype=np.int32) * (PAPER_WHITE - INK_BLACK) // 255 + INK_BLACK).astype(np.int16)
SCAN_TIME = time.struct_time((2026, 1, 1, 0, 0, 0, 3, 1, 0))  # pinned document dates


def rasterize(pdf: bytes, max_pages: int | None = None) -> list[Image.Image]:
    doc = pdfium.PdfDocument(pdf)
    try:
        count = len(doc) if max_pages is None else min(max_pages, len(doc))
        return [doc[i].render(scale=DPI / 72, grayscale=True).to_pil().convert("L") for i in range(count)]
    finally:
        doc.close()


def degrade(page: Image.Image, rng: random.Random, quarter_turn: bool) -> Image.Image:
    """Grey the page, add sensor noise and dust, then skew it (or turn the sheet 90 degrees)."""
    noise = np.random.default_rng(rng.getrandbits(64))
    tones = TONE_CURVE[np.asarray(page)]
    noisy = tones + noise.integers(-NOISE, NOISE + 1, size=tones.shape, dtype=np.int16)
    # A scanner's white point flattens the paper, so noise stays on and around the ink
    # (which also keeps the JPEGs a realistic size).
    noisy[noisy > WHITE_POINT] = PAPER_WHITE
    flat = noisy.reshape(-1)
    flat[noise.integers(0, flat.size, size=int(flat.size * DUST_SHARE))] = DUST_GREY
    image = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    if quarter_turn:
        return image.transpose(Image.Transpose.ROTATE_90)
    angle = rng.uniform(-1.5, 1.5)
    return image.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=PAPER_WHITE)


def scan(pdf: bytes, rng: random.Random, quarter_turn: bool, max_pages: int | None = None) -> list[Image.Image]:
    return [degrade(page, rng, quarter_turn) for page in rasterize(pdf, max_pages)]


def image_only_pdf(pages: list[Image.Image], title: str) -> bytes:
    """One JPEG per page at 200 dpi and nothing else: a PDF with no text layer.

    Pillow embeds the JPEG stream directly; its timestamps are pinned so the
    file is byte-stable.
    """
    buf = io.BytesIO()
    pages[0].save(buf, format="PDF", save_all=True, append_images=pages[1:], resolution=float(DPI),
                  quality=65, title=title, producer="Scanner", creationDate=SCAN_TIME, modDate=SCAN_TIME)
    return buf.getvalue()
