"""The extraction stage: one document in, one routed result out. Retry-safe: no side effects.

Recipe (one step per line in `process`): read -> verify hash -> preflight -> triage -> words and
tables -> map -> route -> result.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import TypeVar

from policy_ray.adapters import camelot_tables, images, pdf_forms, pdfium, pdfplumber_words
from policy_ray.adapters.source import DocumentSource
from policy_ray.config import PipelineData, Settings
from policy_ray.core.mapping import map_document
from policy_ray.core.margins import MAX_MARGIN_PAGES
from policy_ray.core.models import ExtractionPath, Page, RawExtraction, Table
from policy_ray.core.outcomes import DocumentResult, DocumentTask
from policy_ray.core.routing import route_document
from policy_ray.core.triage import TriageRules, select_field_pages
from policy_ray.errors import Failure, FailureCategory, PolicyRayError
from policy_ray.stages import faults
from policy_ray.stages.results import read_verified, routed_result

T = TypeVar("T")
COMPONENT = "extractor"


class ExtractStage:
    def __init__(self, settings: Settings, data: PipelineData, *, ocr_available: bool = False):
        self.settings = settings
        self.data = data
        self.ocr_available = ocr_available
        labels = [lab for labs in data.mapping.registry.generic_labels.values() for lab in labs]
        labels += [lab for t in data.mapping.registry.templates for r in t.fields.values() for lab in r.labels]
        cols = data.mapping.columns
        self.triage_rules = TriageRules.build(labels, (*cols.name, *cols.limit, *cols.deductible, *cols.premium))
        self._sources: dict[str, DocumentSource] = {}

    def process(self, task: DocumentTask) -> DocumentResult:
        timings: dict[str, float] = {}
        try:
            faults.inject(self.settings.test_faults, task)
            data = _timed(timings, "read", lambda: self._read(task))
            raw = _timed(timings, "extract", lambda: self.extract(data, task.doc_sha256))
            mapped = _timed(timings, "map", lambda: map_document(raw, self.data.mapping))
            decision = route_document(mapped, source=raw.source.value, text_layer=raw.has_text_layer,
                                      ocr_available=self.ocr_available, matrix=self.data.matrix)
            return routed_result(task, raw, mapped, decision, timings, self.data.matrix)
        except MemoryError as exc:
            return DocumentResult(task=task, status="dead_letter", timings_ms=timings,
                                  failure=Failure.from_exception(exc, stage="extract", component=COMPONENT))
        except Exception as exc:
            return DocumentResult(task=task, status="dead_letter", timings_ms=timings,
                                  failure=Failure.from_exception(exc, stage="extract", component=COMPONENT))

    def _read(self, task: DocumentTask) -> bytes:
        return read_verified(self._sources, task, self.settings.storage_options)

    def extract(self, data: bytes, doc_sha256: str) -> RawExtraction:
        if data and images.sniff_kind(data) in ("tiff", "png", "jpeg"):
            # A scan sent as an image has no text layer: the routing matrix sends it to OCR.
            return RawExtraction(doc_sha256=doc_sha256, page_count=0, pages=(), extractor="image")
        preflight(data, max_bytes=self.settings.max_file_mb << 20)
        with pdfium.open_pdf(data, max_pages=self.settings.max_pages) as pdf:
            texts = pdfium.page_texts(pdf)
            wanted = select_field_pages(texts, self.triage_rules) if self.settings.triage else list(range(len(texts)))
            has_text = [i for i in wanted if texts[i].strip()]
            # Skipped pages are not read, but their running header and footer travel with the payload.
            skipped = [i for i, text in enumerate(texts) if i not in set(has_text) and text.strip()]
            margins = pdfium.page_margins(pdf, skipped[:MAX_MARGIN_PAGES])
        table_pages = set(has_text[: self.settings.table_pages_max])
        pages = pdfplumber_words.extract_pages(data, has_text, table_pages=table_pages) if has_text else []
        if self.settings.camelot and pages:
            ruled = sorted(p.number for p in pages if any(t.source == "pdfplumber" for t in p.tables))
            extra = camelot_tables.lattice_tables(data, ruled)
            if extra:
                pages = [_with_tables(p, [t for t in extra if t.page == p.number]) for p in pages]
        form = pdf_forms.form_field_values(data) if b"/AcroForm" in data else {}
        return RawExtraction(
            doc_sha256=doc_sha256,
            page_count=len(texts),
            pages=tuple(pages),
            form_fields=tuple(sorted(form.items())),
            source=ExtractionPath.TEXT,
            skipped_pages=tuple(i + 1 for i in range(len(texts)) if i not in set(has_text)),
            margins=tuple(margins),
            extractor="pdfium+pdfplumber+camelot" if self.settings.camelot else "pdfium+pdfplumber",
        )


def preflight(data: bytes, *, max_bytes: int) -> None:
    """Reject what is not worth opening, with a precise category."""
    if not data:
        raise PolicyRayError(FailureCategory.EMPTY_FILE, "the file is empty", stage="preflight")
    if len(data) > max_bytes:
        raise PolicyRayError(FailureCategory.FILE_TOO_LARGE, f"{len(data)} bytes exceeds {max_bytes}",
                             stage="preflight")
    if b"%PDF-" not in data[:1024]:
        raise PolicyRayError(FailureCategory.NOT_A_PDF, "no PDF header in the first 1024 bytes", stage="preflight")


def _with_tables(page: Page, tables: list[Table]) -> Page:
    return dataclasses.replace(page, tables=(*page.tables, *tables))


def _timed(timings: dict[str, float], name: str, fn: Callable[[], T]) -> T:
    start = time.perf_counter()
    try:
        return fn()
    finally:
        timings[name] = round((time.perf_counter() - start) * 1000, 2)
