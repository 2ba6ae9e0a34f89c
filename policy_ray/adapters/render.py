"""pypdfium2: render PDF pages to grayscale images for OCR, within a pixel budget."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pypdfium2 as pdfium
from PIL import Image

from policy_ray.adapters.pdfium import classify_open_error
from policy_ray.errors import FailureCategory, PolicyRayError

STAGE = "render"
MIN_DPI = 100  # below this Tesseract's recall on 9-10 pt print collapses: refuse rather than misread


@dataclass(frozen=True)
class RenderedPage:
    image: Image.Image  # mode "L"
    width: float  # page size in points, as displayed (after the page's own /Rotate)
    height: float
    scale: float  # pixels per point
    dpi: int


def pixel_size(width_pt: float, height_pt: float, dpi: int) -> tuple[int, int]:
    """The bitmap size pdfium allocates for a page at `dpi` (pypdfium2 rounds up)."""
    scale = dpi / 72
    return math.ceil(width_pt * scale), math.ceil(height_pt * scale)


def choose_dpi(width_pt: float, height_pt: float, *, dpi: int, max_pixels: int, min_dpi: int = MIN_DPI) -> int:
    """The requested dpi, or the highest lower one (not below `min_dpi`) that fits `max_pixels`.

    Pure arithmetic on the page size, so an oversized page is refused before any bitmap exists.
    """
    if width_pt <= 0 or height_pt <= 0:
        raise PolicyRayError(FailureCategory.MALFORMED_PDF, f"page has no area ({width_pt}x{height_pt} pt)",
                             stage=STAGE)
    w, h = pixel_size(width_pt, height_pt, dpi)
    if w * h <= max_pixels:
        return dpi
    fit = min(dpi, math.floor(72 * math.sqrt(max_pixels / (width_pt * height_pt))))
    while fit >= min_dpi:
        w, h = pixel_size(width_pt, height_pt, fit)
        if w * h <= max_pixels:  # ceil() can overshoot the estimate by a row or a column
            return fit
        fit -= 1
    w, h = pixel_size(width_pt, height_pt, min_dpi)
    raise PolicyRayError(
        FailureCategory.IMAGE_TOO_LARGE,
        f"page of {width_pt:.0f}x{height_pt:.0f} pt needs {w}x{h} px even at {min_dpi} dpi "
        f"(cap {max_pixels} px)",
        stage=STAGE,
    )


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise PolicyRayError(classify_open_error(str(exc)), f"pdfium could not open the file: {exc}",
                             stage=STAGE) from exc


def page_count(data: bytes) -> int:
    pdf = _open(data)
    try:
        return len(pdf)
    finally:
        pdf.close()


def render_page(data: bytes, page_index: int, *, dpi: int, max_pixels: int, min_dpi: int = MIN_DPI) -> RenderedPage:
    """Render one page (0-based) in grayscale at `dpi`, lowered as far as `min_dpi` to fit `max_pixels`."""
    pdf = _open(data)
    try:
        if not 0 <= page_index < len(pdf):
            raise PolicyRayError(FailureCategory.INTERNAL_ERROR,
                                 f"page index {page_index} out of range (document has {len(pdf)} pages)",
                                 stage=STAGE)
        # Filled form fields are drawn only with a form environment; a flattened-looking form needs them.
        pdf.init_forms()
        page = pdf[page_index]
        try:
            width, height = page.get_size()
            used = choose_dpi(width, height, dpi=dpi, max_pixels=max_pixels, min_dpi=min_dpi)
            bitmap = page.render(scale=used / 72, grayscale=True)
            try:
                # to_pil() shares the bitmap's buffer for mode L: copy before the bitmap goes away.
                shared = bitmap.to_pil()
                image = shared.copy() if shared.mode == "L" else shared.convert("L")
            finally:
                bitmap.close()
        except pdfium.PdfiumError as exc:
            raise PolicyRayError(FailureCategory.MALFORMED_PDF, f"pdfium could not render the page: {exc}",
                                 stage=STAGE, page=page_index + 1) from exc
        finally:
            page.close()
    finally:
        pdf.close()
    return RenderedPage(image=image, width=width, height=height, scale=used / 72, dpi=used)
