"""RapidOCR (rapidocr_onnxruntime): the GPU-capable OCR engine, PP-OCRv4 models run by onnxruntime.

The detection and recognition models ship inside the wheel (rapidocr_onnxruntime/models/*.onnx):
nothing is downloaded. onnxruntime's CUDA provider is used when asked for and present (the
onnxruntime-gpu build); otherwise, as with the plain CPU build, the engine runs on CPU.

Inference runs in this process, on a helper thread the engine waits for at most `timeout_s` a page
(TesseractEngine's per-page timeout kills its subprocess instead). onnxruntime cannot be interrupted,
so a page that overruns raises `ocr_timeout` and leaves its thread running: the worker retires after
such a document (see actors/worker.py), and the pool's document deadline stays the backstop.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from policy_ray.adapters.ocr_result import (
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

INSTALL_HINT = "install it with `pip install rapidocr-onnxruntime` (models ship in the wheel)"
CUDA = "CUDAExecutionProvider"
# A read at least this confident, with horizontal lines, is taken as upright (no trial rotations).
UPRIGHT_MIN_CONF = 0.6
# Detection boxes are grown by this factor before lines are cut out for recognition. RapidOCR's 1.6
# cuts tight, and the model then reads Helvetica's capital I as l and drops spaces between words;
# at 2.0 our declarations page read exactly (measured on 200 dpi renders).
UNCLIP_RATIO = 2.0
# RapidOCR shrinks inputs longer than 2000 px by default, which costs it the spaces between words
# (seen at 200 dpi). Our renderer already caps pixels, so the engine takes pages as they come.
_NO_SHRINK = 100_000

_WORD = re.compile(r"\S+")

Point = Sequence[float]
Line = tuple[Sequence[Point], str, float]


def words_from_lines(lines: Sequence[Line], scale: float) -> tuple[Word, ...]:
    """Words from RapidOCR lines (4-point box in pixels, text, score), in points (pixels / `scale`).

    RapidOCR boxes whole lines: each line's bounding box is shared out horizontally in proportion to
    character counts (spaces included, as they take room on the line), and every word takes the line
    score as its conf.
    """
    words: list[Word] = []
    for box, text, score in lines:
        xs = [float(p[0]) for p in box]
        ys = [float(p[1]) for p in box]
        if not xs or not text.strip():
            continue
        left, right, top, bottom = min(xs), max(xs), min(ys), max(ys)
        per_char = (right - left) / len(text)
        conf = min(max(float(score), 0.0), 1.0)
        for match in _WORD.finditer(text):
            x0 = left + match.start() * per_char
            x1 = left + match.end() * per_char
            words.append(Word(text=match.group(), x0=x0 / scale, top=top / scale, x1=x1 / scale,
                              bottom=bottom / scale, conf=conf))
    return tuple(words)


def uppercase_context(text: str) -> str:
    """Read `l` as `I` inside an otherwise upper-case word: "HMl-CPP-4839201" -> "HMI-CPP-4839201".

    In sans-serif print (Helvetica, Arial) capital I and small l are the same stroke, and PP-OCRv4
    picks l even between capitals; tesseract's language model settles it from context, this does the
    same for the one case that corrupts policy numbers. Words with any other lower-case letter stay.
    """
    if "l" not in text:
        return text
    others = [c for c in text if c.isalpha() and c != "l"]
    if len(others) >= 2 and all(c.isupper() for c in others):
        return text.replace("l", "I")
    return text


def lines_from_output(output: Any) -> list[Line]:
    """RapidOCR's `(result, elapsed)` answer as typed lines; `result` is None when no text was found."""
    result = output[0] if isinstance(output, tuple) else output
    if not result:
        return []
    return [(item[0], str(item[1]), float(item[2])) for item in result if len(item) >= 3]


_Read = PageRead


class RapidOcrEngine:
    """PP-OCRv4 through onnxruntime, on CUDA when `use_cuda` and the GPU build allow, else CPU."""

    name = "rapidocr"

    def __init__(self, *, timeout_s: float, use_cuda: bool = False, threads: int = 1,
                 detect_orientation: bool = True, deskew: bool = True, unclip_ratio: float = UNCLIP_RATIO) -> None:
        self.timeout_s = timeout_s  # a page's reads, all orientations together
        self.detect_orientation = detect_orientation
        self.deskew = deskew
        try:
            import onnxruntime
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:
            raise PolicyRayError(FailureCategory.INTERNAL_ERROR, f"rapidocr_onnxruntime is missing: {INSTALL_HINT}",
                                 stage=STAGE) from exc
        # Ask for CUDA only where it can run, by RapidOCR 1.x's own test (OrtInferSession._check_cuda: the GPU
        # build, get_device() == "GPU", lists the provider); else it logs a page of advice and runs on CPU. The
        # CUDA/cuDNN libraries of onnxruntime-gpu[cuda,cudnn]'s nvidia-* wheels are loaded first.
        cuda = use_cuda and onnxruntime.get_device() == "GPU" and CUDA in onnxruntime.get_available_providers()
        if cuda:
            onnxruntime.preload_dlls()
        try:
            self._ocr = RapidOCR(
                text_score=0.0,  # keep low-score lines with their score; callers judge confidence
                max_side_len=_NO_SHRINK,
                det_unclip_ratio=unclip_ratio,
                intra_op_num_threads=threads,
                inter_op_num_threads=1,
                det_use_cuda=cuda, cls_use_cuda=cuda, rec_use_cuda=cuda,
            )
        except MemoryError:
            raise
        except Exception as exc:  # a missing model file or a provider that fails to start
            raise PolicyRayError(FailureCategory.INTERNAL_ERROR, f"RapidOCR could not start: {exc}"[:2000],
                                 stage=STAGE) from exc
        self.providers: tuple[str, ...] = tuple(self._ocr.text_det.infer.session.get_providers())

    @property
    def on_cuda(self) -> bool:
        return bool(self.providers) and self.providers[0] == CUDA

    def recognize(self, image: Image.Image, *, scale: float) -> OcrResult:
        """Words in points of the upright page; `scale` is the image's pixels per point (dpi / 72)."""
        gray = image if image.mode == "L" else image.convert("L")
        deadline = time.monotonic() + self.timeout_s
        best = self._read(gray, 0, deadline)
        if self.detect_orientation and (best.sideways or best.conf < UPRIGHT_MIN_CONF):
            # RapidOCR reads sideways lines in sideways coordinates; its line classifier (off here: it
            # flipped upright lines into blanks) only knows 0/180 per line. Trial reads settle the page.
            candidates = (90, 270) if best.sideways else (90, 180, 270)
            reads = [best, *(self._read(gray, angle, deadline) for angle in candidates)]
            best = max(reads, key=lambda r: (not r.sideways, r.conf))
        words = tuple(Word(text=uppercase_context(w.text), x0=w.x0 / scale, top=w.top / scale, x1=w.x1 / scale,
                           bottom=w.bottom / scale, conf=w.conf) for w in best.words_px)
        return OcrResult(words=words, mean_conf=mean_conf(words), angle=best.angle, skew_deg=best.skew,
                         width=best.image.width / scale, height=best.image.height / scale, engine=self.name)

    def _read(self, gray: Image.Image, angle: int, deadline: float) -> _Read:
        upright = turned_upright(gray, angle)
        skew = estimate_skew(np.asarray(upright)) if self.deskew else 0.0
        if skew:
            upright = deskewed(upright, skew)
        try:
            output = self._infer(np.asarray(upright), deadline)
        except (MemoryError, PolicyRayError):
            raise
        except Exception as exc:  # onnxruntime and its pre/post-processing raise assorted errors
            raise PolicyRayError(FailureCategory.INTERNAL_ERROR, f"RapidOCR failed: {type(exc).__name__}: {exc}"[:2000],
                                 stage=STAGE) from exc
        return _Read(image=upright, angle=angle, skew=skew, words_px=words_from_lines(lines_from_output(output), 1.0))

    def _infer(self, pixels: np.ndarray, deadline: float) -> Any:
        """One RapidOCR call, waited for until `deadline` at most (module docstring: why a thread)."""
        answer: dict[str, Any] = {}

        def run() -> None:
            try:
                answer["output"] = self._ocr(pixels, use_cls=False)
            except BaseException as exc:  # handed to the waiting thread as it is
                answer["error"] = exc

        worker = threading.Thread(target=run, name="rapidocr-page", daemon=True)
        worker.start()
        worker.join(max(deadline - time.monotonic(), 0.0))
        if worker.is_alive():
            raise PolicyRayError(FailureCategory.OCR_TIMEOUT,
                                 f"RapidOCR did not read the page within {self.timeout_s:.0f}s", stage=STAGE)
        if "error" in answer:
            raise answer["error"]
        return answer["output"]
