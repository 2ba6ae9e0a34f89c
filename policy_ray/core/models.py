"""Data that flows through a night: raw extraction payloads, normalized records, decisions.

The raw payload is what the PDF (or OCR) said, with positions; the normalized record is derived from
it by the mapping layer. Both are plain, JSON-able dataclasses so they hash canonically.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any


class ExtractionPath(StrEnum):
    TEXT = "text"
    OCR = "ocr"
    REVIEW = "review"


@dataclass(frozen=True)
class Word:
    """One word with its box in PDF points (top-left origin) and a recognition confidence."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    conf: float = 1.0

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass(frozen=True)
class Table:
    """A table found by a table extractor: rows of cell strings, with the extractor's own score.

    `score`: how well the text fits the cells (1.0: no word cut by a border, none left out), from the
    extractor's evidence (camelot's parsing_report accuracy; for pdfplumber, the words its borders cut).
    `bbox`: (x0, top, x1, bottom) in points from the page's top left; None where the extractor gave none.
    """

    page: int
    rows: tuple[tuple[str, ...], ...]
    source: str
    score: float
    bbox: tuple[float, float, float, float] | None = None


@dataclass(frozen=True)
class Page:
    number: int  # 1-based
    width: float
    height: float
    words: tuple[Word, ...]
    tables: tuple[Table, ...] = ()
    has_text_layer: bool = True


@dataclass(frozen=True)
class RawExtraction:
    """Everything an extractor read from one document, before any interpretation."""

    doc_sha256: str
    page_count: int
    pages: tuple[Page, ...]
    form_fields: tuple[tuple[str, str], ...] = ()
    source: ExtractionPath = ExtractionPath.TEXT
    skipped_pages: tuple[int, ...] = ()  # pages triage judged to carry no fields (policy wording)
    extractor: str = ""
    # The running header and footer of skipped pages (a few runs of text near the top and bottom edge,
    # from the text pass triage reads; core/margins.py bounds them): a carrier's name printed on every
    # page of its wording says who the carrier is, though the page itself is not read.
    margins: tuple[Page, ...] = ()

    @property
    def has_text_layer(self) -> bool:
        return any(p.has_text_layer for p in self.pages) or bool(self.form_fields)

    def to_payload(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> RawExtraction:
        """The extraction a payload records; payloads from before tables had boxes and skipped pages had
        margins read as having none."""
        return cls(
            doc_sha256=payload["doc_sha256"],
            page_count=payload["page_count"],
            pages=tuple(_page(p) for p in payload["pages"]),
            form_fields=tuple((k, v) for k, v in payload["form_fields"]),
            source=ExtractionPath(payload["source"]),
            skipped_pages=tuple(payload["skipped_pages"]),
            extractor=payload["extractor"],
            margins=tuple(_page(p) for p in payload.get("margins", ())),
        )


def _page(p: dict[str, Any]) -> Page:
    return Page(
        number=p["number"],
        width=p["width"],
        height=p["height"],
        words=tuple(Word(**w) for w in p["words"]),
        tables=tuple(
            Table(page=t["page"], rows=tuple(tuple(r) for r in t["rows"]), source=t["source"], score=t["score"],
                  bbox=(t["bbox"][0], t["bbox"][1], t["bbox"][2], t["bbox"][3]) if t.get("bbox") else None)
            for t in p["tables"]
        ),
        has_text_layer=p["has_text_layer"],
    )


@dataclass(frozen=True)
class Coverage:
    name: str
    limit: Decimal | None = None
    deductible: Decimal | None = None
    premium: Decimal | None = None
    # A certificate lists several policies; each limit line carries the policy it belongs to.
    policy_number: str | None = None
    carrier_name: str | None = None
    effective_date: date | None = None
    expiration_date: date | None = None


@dataclass(frozen=True)
class PolicyRecord:
    """The normalized record, as committed to `policies` (without batch bookkeeping)."""

    document_type: str
    template_id: str
    template_version: str
    carrier_name: str | None
    policy_number: str | None
    insured_name: str | None
    effective_date: date | None
    expiration_date: date | None
    total_premium: Decimal | None
    currency: str | None
    coverages: tuple[Coverage, ...] = ()


REQUIRED_FIELDS: tuple[str, ...] = (
    "carrier_name",
    "policy_number",
    "insured_name",
    "effective_date",
    "expiration_date",
)
OPTIONAL_FIELDS: tuple[str, ...] = ("total_premium", "currency", "coverages")
# A certificate exists to show limits: one whose limit lines were not all read is not accepted.
CERTIFICATE_REQUIRED_FIELDS: tuple[str, ...] = (*REQUIRED_FIELDS, "coverages")


@dataclass(frozen=True)
class MappedDocument:
    """The mapping layer's answer: a record, the confidence of each field, and what backs it."""

    record: PolicyRecord
    field_confidence: dict[str, float]
    evidence: dict[str, str] = field(default_factory=dict)
    validation_errors: tuple[str, ...] = ()
    recognized: bool = True  # False when nothing on the document looks like an insurance document
    required: tuple[str, ...] = REQUIRED_FIELDS  # the fields the document's confidence is the lowest of

    @property
    def confidence(self) -> float:
        return min((self.field_confidence.get(name, 0.0) for name in self.required), default=0.0)

    @property
    def missing_required(self) -> tuple[str, ...]:
        return tuple(n for n in self.required if getattr(self.record, n) in (None, ()))
