"""Pillow: image documents carriers send (TIFF, multi-page included; PNG; JPEG) as grayscale pages.

Every frame is sized from its header before it is decoded, so a decompression bomb is refused
without being allocated. Sizes come back in points (pixels * 72 / dpi): OCR words of an image land
in the same coordinate system as words of a rendered PDF page.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from PIL import Image

from policy_ray.errors import FailureCategory, PolicyRayError

STAGE = "images"
DEFAULT_DPI = 200.0
# Pillow formats we decode; anything else (EPS would run Ghostscript, for one) is refused.
_FORMATS = ("TIFF", "PNG", "JPEG", "MPO")
# Resolution tags outside this range are placeholders (JFIF aspect-only density, 1 dpi), not scans.
_DPI_RANGE = (50.0, 2400.0)

_ORIENTATION_TAG = 0x0112
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

ImageKind = Literal["pdf", "tiff", "png", "jpeg"]


@dataclass(frozen=True)
class ImagePage:
    index: int  # 0-based frame
    image: Image.Image  # mode "L", square pixels
    width: float  # points
    height: float
    dpi: float
    frames: int  # frames in the file: a multi-page TIFF's page count, read from its directory

    @property
    def scale(self) -> float:
        """Pixels per point, as OCR engines take it."""
        return self.dpi / 72


def sniff_kind(data: bytes) -> ImageKind | None:
    head = data[:1024]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):  # classic and BigTIFF
        return "tiff"
    if b"%PDF-" in head:  # readers accept a header anywhere in the first 1024 bytes
        return "pdf"
    return None


def frame_dpi(info: Mapping[Any, object]) -> tuple[float, float]:
    """(x, y) dpi from Pillow's `info`, DEFAULT_DPI for a missing or implausible value."""
    raw = info.get("dpi")
    values: list[float] = []
    if isinstance(raw, tuple) and len(raw) == 2:
        for v in raw:
            try:
                values.append(float(v))
            except (TypeError, ValueError):
                values.append(math.nan)
    else:
        values = [math.nan, math.nan]
    lo, hi = _DPI_RANGE
    ok = [v if math.isfinite(v) and lo <= v <= hi else DEFAULT_DPI for v in values]
    return ok[0], ok[1]


def _effective_cap(max_pixels: int) -> int:
    # Pillow's own bomb limit (Image.MAX_IMAGE_PIXELS, None when disabled) is honoured too: a process
    # that wants larger images raises it once at start-up.
    pil_cap = Image.MAX_IMAGE_PIXELS
    return max_pixels if pil_cap is None else min(max_pixels, int(pil_cap))


def _too_large(w: int, h: int, cap: int, index: int) -> PolicyRayError:
    return PolicyRayError(FailureCategory.IMAGE_TOO_LARGE,
                          f"image frame {index + 1} is {w}x{h} px, over the cap of {cap} px",
                          stage=STAGE, page=index + 1)


@contextmanager
def _decoding(index: int) -> Iterator[None]:
    """Map Pillow's zoo of decoder failures to categories; a bomb warning becomes a refusal."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except PolicyRayError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PolicyRayError(FailureCategory.IMAGE_TOO_LARGE, f"decompression bomb refused: {exc}",
                             stage=STAGE, page=index + 1) from exc
    except MemoryError:
        raise
    except Exception as exc:  # untrusted input: Pillow raises OSError, SyntaxError, ValueError, struct.error...
        raise PolicyRayError(FailureCategory.MALFORMED_PDF,
                             f"the image is unreadable (frame {index + 1}): {type(exc).__name__}: {exc}",
                             stage=STAGE, page=index + 1) from exc


def _orientation(im: Image.Image) -> int | None:
    # A TIFF keeps the tag per frame (tag_v2 follows seek()); other formats have one EXIF block.
    tags = getattr(im, "tag_v2", None)
    value = tags.get(_ORIENTATION_TAG) if tags is not None else im.getexif().get(_ORIENTATION_TAG)
    return value if isinstance(value, int) else None


def to_gray(frame: Image.Image) -> Image.Image:
    """Any Pillow mode to 8-bit grayscale; transparency is flattened onto white paper."""
    if frame.mode == "L":
        return frame.copy()
    if frame.mode in ("I", "F") or frame.mode.startswith("I;16"):
        # 16-bit and float scans: stretch the range actually used (12-bit scanners leave the top empty).
        arr = np.asarray(frame, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        span = hi - lo if hi > lo else 1.0
        return Image.fromarray(((arr - lo) * (255.0 / span)).astype(np.uint8), mode="L")
    if frame.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (frame.mode == "P" and "transparency" in frame.info):
        rgba = frame.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(paper, rgba).convert("L")
    if frame.mode == "CMYK":
        return frame.convert("RGB").convert("L")
    return frame.convert("L")


def iter_image_pages(data: bytes, *, max_pixels: int) -> Iterator[ImagePage]:
    """Yield each frame of an image file as a grayscale page, decoding one frame at a time."""
    cap = _effective_cap(max_pixels)
    with _decoding(0):
        opened = Image.open(io.BytesIO(data), formats=_FORMATS)
    with opened as im:
        with _decoding(0):
            frames = int(getattr(im, "n_frames", 1))  # walks the TIFF's directories, decodes nothing
        index = 0
        while True:
            with _decoding(index):
                try:
                    im.seek(index)
                except EOFError:
                    return
                w, h = im.size  # from the frame header: nothing decoded yet
                if w <= 0 or h <= 0:
                    raise PolicyRayError(FailureCategory.MALFORMED_PDF,
                                         f"the image is unreadable: frame {index + 1} is {w}x{h} px",
                                         stage=STAGE, page=index + 1)
                if w * h > cap:
                    raise _too_large(w, h, cap, index)
                xdpi, ydpi = frame_dpi(im.info)
                dpi = max(xdpi, ydpi)
                # Non-square pixels (fax: 204x98 dpi) are resampled square, or text reaches OCR squashed.
                sw, sh = round(w * dpi / xdpi), round(h * dpi / ydpi)
                if sw * sh > cap:
                    raise _too_large(sw, sh, cap, index)
                orientation = _orientation(im)
                im.load()
                gray = to_gray(im)
                if (sw, sh) != (w, h):
                    gray = gray.resize((sw, sh), Image.Resampling.BILINEAR)
                # Phone photos and some TIFFs are stored sideways with a tag saying so.
                transpose = _TRANSPOSE.get(orientation) if orientation is not None else None
                if transpose is not None:
                    gray = gray.transpose(transpose)
            yield ImagePage(index=index, image=gray, width=gray.width * 72 / dpi, height=gray.height * 72 / dpi,
                            dpi=dpi, frames=frames)
            index += 1
