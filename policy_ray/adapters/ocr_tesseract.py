"""Tesseract through pytesseract: the CPU OCR engine, with orientation detection and deskew.

An upright page costs one tesseract process. OSD costs about as much as recognition itself (1.4 s
against 1.9 s CPU on a 200 dpi declarations page, measured), so it runs only when the first read
says the page is not upright: poor confidence (upside down, or sideways the way tesseract misreads)
or vertical word boxes (sideways the way tesseract reads anyway, in the sideways coordinates). All
processes of one call share one deadline. Images go to tesseract as PGM files we write: pytesseract
encodes PNG by default (770 ms against 2 ms for a 300 dpi page, measured).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytesseract
from PIL import Image

from policy_ray.adapters.ocr_result import (
    ROTATIONS,
    STAGE,
    OcrResult,
    PageRead,
    deskewed,
    estimate_skew,
    mean_conf,
    turned_upright,
)
from policy_ray.core.models import Word
from policy_ray.errors import FailureCategory, PolicyRayError

INSTALL_HINT = "install it with `apt-get install tesseract-ocr` (English data: tesseract-ocr-eng)"
_TIMEOUT_MESSAGE = "Tesseract process timeout"  # pytesseract's only signal, a plain RuntimeError
# A first read at least this confident, with horizontal words, is taken as upright (no OSD run).
UPRIGHT_MIN_CONF = 0.6


def words_from_data(data: Mapping[str, Sequence[Any]], scale: float, min_conf: float = 0) -> tuple[Word, ...]:
    """Words from `image_to_data(..., output_type=Output.DICT)`, pixel boxes divided by `scale` into points.

    Rows with conf -1 (page, block, line rows) and empty text are skipped. Tesseract's word conf is
    its lowest character conf, so a correct word can score near 0: low-conf words are kept with their
    conf (in [0, 1]) unless `min_conf` (also in [0, 1]) asks otherwise.
    """
    words: list[Word] = []
    texts = data.get("text", ())
    for i, raw_text in enumerate(texts):
        text = str(raw_text).strip()
        if not text:
            continue
        try:
            conf = float(data["conf"][i])
        except (TypeError, ValueError):
            continue
        if conf < 0:
            continue
        conf = min(conf / 100.0, 1.0)
        if conf < min_conf:
            continue
        left, top = float(data["left"][i]), float(data["top"][i])
        width, height = float(data["width"][i]), float(data["height"][i])
        words.append(Word(text=text, x0=left / scale, top=top / scale, x1=(left + width) / scale,
                          bottom=(top + height) / scale, conf=conf))
    return tuple(words)


def rotation_from_osd(osd: Mapping[str, Any], *, min_conf: float) -> int:
    """Clockwise rotation (0/90/180/270) that makes the page upright, from `image_to_osd` DICT output."""
    try:
        rotate, conf = int(osd["rotate"]) % 360, float(osd["orientation_conf"])
    except (KeyError, TypeError, ValueError):
        return 0
    return rotate if rotate in ROTATIONS and conf >= min_conf else 0


@dataclass(frozen=True)
class _Read(PageRead):
    data: dict[str, list[Any]] = field(default_factory=dict)  # tesseract's own output, for the final words

    @property
    def upright(self) -> bool:
        return self.conf >= UPRIGHT_MIN_CONF and not self.sideways


class TesseractEngine:
    """The CPU engine. One instance per worker; each `recognize` call is bounded by `timeout_s` in all."""

    name = "tesseract"

    def __init__(self, *, lang: str = "eng", timeout_s: float, psm: int = 3, oem: int = 1,
                 detect_orientation: bool = True, deskew: bool = True, osd_min_conf: float = 2.0) -> None:
        # One tesseract per core: its OpenMP threads oversubscribe a worker (14 s against 2.6 s a page).
        if not os.environ.get("OMP_THREAD_LIMIT"):
            os.environ["OMP_THREAD_LIMIT"] = "1"
        self.lang = lang
        self.timeout_s = timeout_s
        self.psm = psm
        self.oem = oem
        self.detect_orientation = detect_orientation
        self.deskew = deskew
        self.osd_min_conf = osd_min_conf
        available = self._languages()
        missing = [code for code in lang.split("+") if code not in available]
        if missing:
            raise PolicyRayError(FailureCategory.INTERNAL_ERROR,
                                 f"tesseract has no traineddata for {missing} (has {available})", stage=STAGE)
        # Debian's tesseract-ocr ships osd.traineddata; without it orientation is found by trial reads.
        self.has_osd = "osd" in available

    @staticmethod
    def _languages() -> list[str]:
        try:
            return list(pytesseract.get_languages(config=""))
        except pytesseract.TesseractNotFoundError as exc:
            raise PolicyRayError(FailureCategory.INTERNAL_ERROR, f"tesseract binary not found: {INSTALL_HINT}",
                                 stage=STAGE) from exc

    def recognize(self, image: Image.Image, *, scale: float) -> OcrResult:
        """Words in points of the upright page; `scale` is the image's pixels per point (dpi / 72)."""
        deadline = time.monotonic() + self.timeout_s
        gray = image if image.mode == "L" else image.convert("L")
        dpi = max(1, round(scale * 72))
        with tempfile.TemporaryDirectory(prefix="policy_ray_ocr_") as tmp:
            workdir = Path(tmp)
            best = self._read(gray, 0, workdir, dpi, deadline)
            if self.detect_orientation and not best.upright:
                best = self._reorient(gray, best, workdir, dpi, deadline)
        words = words_from_data(best.data, scale)
        return OcrResult(words=words, mean_conf=mean_conf(words), angle=best.angle, skew_deg=best.skew,
                         width=best.image.width / scale, height=best.image.height / scale, engine=self.name)

    def _read(self, gray: Image.Image, angle: int, workdir: Path, dpi: int, deadline: float) -> _Read:
        upright = turned_upright(gray, angle)
        skew = estimate_skew(np.asarray(upright)) if self.deskew else 0.0
        if skew:
            upright = deskewed(upright, skew)
        data = self._data(self._write(upright, workdir, f"rot{angle}"), dpi, deadline)
        return _Read(image=upright, angle=angle, skew=skew, data=data, words_px=words_from_data(data, 1.0))

    def _reorient(self, gray: Image.Image, first: _Read, workdir: Path, dpi: int, deadline: float) -> _Read:
        """Re-read a page the first read says is not upright, in the orientation(s) OSD or trial suggests."""
        if self.has_osd:
            angle = self._osd_rotation(self._write(gray, workdir, "osd"), dpi, deadline)
            if angle:
                candidates: tuple[int, ...] = (angle,)
            elif first.sideways:
                candidates = (90, 270)  # OSD unsure, yet the text runs down the page
            else:
                return first  # upright, just a poor scan
        else:
            candidates = (90, 270) if first.sideways else (90, 180, 270)
        reads = [first, *(self._read(gray, a, workdir, dpi, deadline) for a in candidates)]
        # A sideways read has sideways coordinates: it wins only if nothing else read.
        return max(reads, key=lambda r: (not r.sideways, r.conf))

    @staticmethod
    def _write(image: Image.Image, workdir: Path, stem: str) -> str:
        path = workdir / f"{stem}.pgm"
        image.save(path, format="PPM")  # Pillow's PPM writer emits binary PGM (P5) for mode L
        return str(path)

    def _config(self, dpi: int) -> str:
        return f"--psm {self.psm} --oem {self.oem} --dpi {dpi}"

    def _remaining(self, deadline: float) -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise PolicyRayError(FailureCategory.OCR_TIMEOUT, f"tesseract exceeded {self.timeout_s} s", stage=STAGE)
        return left

    def _data(self, path: str, dpi: int, deadline: float) -> dict[str, list[Any]]:
        try:
            result: dict[str, list[Any]] = pytesseract.image_to_data(
                path, lang=self.lang, config=self._config(dpi), output_type=pytesseract.Output.DICT,
                timeout=self._remaining(deadline))
        except (RuntimeError, pytesseract.TesseractNotFoundError) as exc:  # TesseractError is a RuntimeError
            raise self._map_error(exc) from exc
        return result

    def _osd_rotation(self, path: str, dpi: int, deadline: float) -> int:
        try:
            osd = pytesseract.image_to_osd(path, config=f"--dpi {dpi}", output_type=pytesseract.Output.DICT,
                                           timeout=self._remaining(deadline))
        except pytesseract.TesseractError:
            return 0  # "Too few characters": nothing to orient by
        except (RuntimeError, pytesseract.TesseractNotFoundError) as exc:
            raise self._map_error(exc) from exc
        return rotation_from_osd(osd, min_conf=self.osd_min_conf)

    def _map_error(self, exc: BaseException) -> PolicyRayError:
        if isinstance(exc, pytesseract.TesseractNotFoundError):
            return PolicyRayError(FailureCategory.INTERNAL_ERROR, f"tesseract binary not found: {INSTALL_HINT}",
                                  stage=STAGE)
        if isinstance(exc, pytesseract.TesseractError):
            return PolicyRayError(FailureCategory.INTERNAL_ERROR,
                                  f"tesseract failed (status {exc.status}): {exc.message}"[:2000], stage=STAGE)
        if _TIMEOUT_MESSAGE in str(exc):
            return PolicyRayError(FailureCategory.OCR_TIMEOUT, f"tesseract exceeded {self.timeout_s} s", stage=STAGE)
        return PolicyRayError(FailureCategory.INTERNAL_ERROR, f"tesseract: {type(exc).__name__}: {exc}"[:2000],
                              stage=STAGE)
