"""The OCR stage: render (or decode) the first pages, recognize words, and hand them to the same
mapping and routing as the text path. Retry-safe: no side effects.

Recipe: read -> verify hash -> pages as images -> OCR each (upright, deskewed) -> map -> route -> result.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

from policy_ray.adapters import images, render
from policy_ray.adapters.ocr_result import OcrEngine
from policy_ray.adapters.source import DocumentSource
from policy_ray.config import PipelineData, Settings
from policy_ray.core.mapping import map_document
from policy_ray.core.models import ExtractionPath, Page, RawExtraction
from policy_ray.core.outcomes import DocumentResult, DocumentTask
from policy_ray.core.routing import route_document
from policy_ray.errors import Failure, FailureCategory, PolicyRayError
from policy_ray.stages import faults
from policy_ray.stages.results import read_verified, routed_result

COMPONENT = "ocr"
_CONTINUES = re.compile(r"\bcontinued\b|next page|carried forward")


def make_engine(settings: Settings) -> OcrEngine:
    """The engine the settings name: Tesseract on CPU, or RapidOCR (onnxruntime, CUDA where present)."""
    if settings.ocr_engine == "rapidocr":
        from policy_ray.adapters.ocr_rapid import RapidOcrEngine

        return RapidOcrEngine(use_cuda=settings.ocr_use_gpu, timeout_s=settings.ocr_page_timeout_s)
    from policy_ray.adapters.ocr_tesseract import TesseractEngine

    return TesseractEngine(lang=settings.ocr_lang, timeout_s=settings.ocr_page_timeout_s)


class OcrStage:
    def __init__(self, settings: Settings, data: PipelineData, engine: OcrEngine | None = None):
        self.settings = settings
        self.data = data
        self.engine = engine or make_engine(settings)
        self._sources: dict[str, DocumentSource] = {}

    def process(self, task: DocumentTask) -> DocumentResult:
        timings: dict[str, float] = {}
        try:
            faults.inject(self.settings.test_faults, task, stage="ocr")
            started = time.perf_counter()
            data = read_verified(self._sources, task, self.settings.storage_options)
            raw = self.recognize(data, task.doc_sha256)
            timings["ocr"] = round((time.perf_counter() - started) * 1000, 2)
            mapped = map_document(raw, self.data.mapping)
            decision = route_document(mapped, source=ExtractionPath.OCR.value, text_layer=raw.has_text_layer,
                                      ocr_available=True, matrix=self.data.matrix)
            return routed_result(task, raw, mapped, decision, timings, self.data.matrix)
        except Exception as exc:  # MemoryError included: every failure is a categorized result
            return DocumentResult(task=task, status="dead_letter", extraction_path=ExtractionPath.OCR.value,
                                  timings_ms=timings,
                                  failure=Failure.from_exception(exc, stage="ocr", component=COMPONENT))

    def recognize(self, data: bytes, doc_sha256: str) -> RawExtraction:
        deadline = time.monotonic() + self.settings.ocr_document_deadline_s
        pages: list[Page] = []
        page_count = 0
        for number, image, scale, total in self._page_images(data):
            page_count = total
            if time.monotonic() > deadline:
                raise PolicyRayError(FailureCategory.OCR_TIMEOUT,
                                     f"document OCR deadline of {self.settings.ocr_document_deadline_s:.0f}s passed",
                                     stage="ocr", page=number)
            result = self.engine.recognize(image, scale=scale)
            image.close()
            pages.append(Page(number=number, width=result.width, height=result.height, words=result.words,
                              has_text_layer=bool(result.words)))
            if self._enough(pages, doc_sha256):
                break  # OCR costs seconds a page: stop once the fields are read and no schedule runs on
        return RawExtraction(doc_sha256=doc_sha256, page_count=page_count, pages=tuple(pages),
                             source=ExtractionPath.OCR,
                             skipped_pages=tuple(range(len(pages) + 1, page_count + 1)),
                             extractor=f"ocr:{self.engine.name}@{self.settings.ocr_dpi}dpi")

    def _enough(self, pages: list[Page], doc_sha256: str) -> bool:
        last_text = " ".join(w.text for w in pages[-1].words).casefold()
        if _CONTINUES.search(last_text):
            return False
        probe = RawExtraction(doc_sha256=doc_sha256, page_count=len(pages), pages=tuple(pages),
                              source=ExtractionPath.OCR)
        return not map_document(probe, self.data.mapping).missing_required

    def _page_images(self, data: bytes) -> Iterator[tuple[int, Any, float, int]]:
        """(page number, grayscale image, pixels per point, page count) for the pages worth OCR."""
        kind = images.sniff_kind(data)
        limit = self.settings.ocr_max_pages
        if kind == "pdf":
            total = render.page_count(data)
            for index in range(min(total, limit)):
                rendered = render.render_page(data, index, dpi=self.settings.ocr_dpi,
                                              max_pixels=self.settings.ocr_max_pixels)
                yield index + 1, rendered.image, rendered.scale, total
        elif kind in ("tiff", "png", "jpeg"):
            for frame in images.iter_image_pages(data, max_pixels=self.settings.ocr_max_pixels):
                if frame.index >= limit:
                    break
                yield frame.index + 1, frame.image, frame.scale, frame.frames
        else:
            raise PolicyRayError(FailureCategory.NOT_A_PDF, "neither a PDF nor a TIFF, PNG or JPEG image", stage="ocr")
