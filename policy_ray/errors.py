"""Failure taxonomy: every way a document can fail, as a fixed enum with transient/terminal semantics.

Failures are structured records (component, category, stage, page, message), never bare strings, and
the exception type survives pickling so it crosses Ray process boundaries intact.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from enum import StrEnum


class FailureCategory(StrEnum):
    """Why a document became a dead letter. Documented one by one in runbooks/dead-letters.md."""

    EMPTY_FILE = "empty_file"
    NOT_A_PDF = "not_a_pdf"
    ENCRYPTED = "encrypted"
    MALFORMED_PDF = "malformed_pdf"
    ZERO_PAGES = "zero_pages"
    FILE_TOO_LARGE = "file_too_large"
    PAGE_LIMIT_EXCEEDED = "page_limit_exceeded"
    MEMORY_LIMIT = "memory_limit"
    TIMEOUT = "timeout"
    WORKER_CRASH = "worker_crash"
    SOURCE_UNREADABLE = "source_unreadable"
    SOURCE_CHANGED = "source_changed"
    NO_TEXT_LAYER = "no_text_layer"
    UNRECOGNIZED_DOCUMENT = "unrecognized_document"
    LOW_CONFIDENCE = "low_confidence"
    FAILED_VALIDATION = "failed_validation"
    OCR_LOW_CONFIDENCE = "ocr_low_confidence"
    OCR_TIMEOUT = "ocr_timeout"
    OCR_CIRCUIT_OPEN = "ocr_circuit_open"
    IMAGE_TOO_LARGE = "image_too_large"
    INTERNAL_ERROR = "internal_error"


# Transient failures may succeed on a later attempt or a later night (a fresh actor, an OCR pool that is
# back, a fixed template); terminal ones will fail the same way until someone changes the input.
_RETRYABLE: frozenset[FailureCategory] = frozenset(
    {
        FailureCategory.MEMORY_LIMIT,
        FailureCategory.TIMEOUT,
        FailureCategory.WORKER_CRASH,
        FailureCategory.SOURCE_UNREADABLE,
        FailureCategory.NO_TEXT_LAYER,
        FailureCategory.LOW_CONFIDENCE,
        FailureCategory.OCR_LOW_CONFIDENCE,
        FailureCategory.OCR_TIMEOUT,
        FailureCategory.OCR_CIRCUIT_OPEN,
        FailureCategory.INTERNAL_ERROR,
    }
)

# Failures that say the *worker* is unhealthy: the document is retried on a fresh actor, and after
# max_attempts it is declared poison.
WORKER_FAILURES: frozenset[FailureCategory] = frozenset(
    {FailureCategory.MEMORY_LIMIT, FailureCategory.TIMEOUT, FailureCategory.WORKER_CRASH}
)


def is_retryable(category: FailureCategory) -> bool:
    return category in _RETRYABLE


class PolicyRayError(Exception):
    """A categorized failure raised by a stage or an adapter."""

    def __init__(self, category: FailureCategory, message: str, *, stage: str = "", page: int | None = None):
        super().__init__(message)
        self.category = FailureCategory(category)
        self.message = message
        self.stage = stage
        self.page = page

    @property
    def retryable(self) -> bool:
        return is_retryable(self.category)

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments are lost by Exception's default pickling; Ray pickles exceptions.
        return (_rebuild_error, (self.category.value, self.message, self.stage, self.page))

    def __str__(self) -> str:
        where = f" (stage {self.stage}" + (f", page {self.page}" if self.page is not None else "") + ")"
        return f"{self.category.value}: {self.message}{where if self.stage else ''}"


def _rebuild_error(category: str, message: str, stage: str, page: int | None) -> PolicyRayError:
    return PolicyRayError(FailureCategory(category), message, stage=stage, page=page)


@dataclass(frozen=True)
class Failure:
    """A structured failure record, as it lands in the dead-letter table."""

    category: FailureCategory
    stage: str
    message: str
    component: str = "policy_ray"
    page: int | None = None
    stack_trace: str = ""
    retryable: bool = field(default=False)

    @classmethod
    def from_exception(cls, exc: BaseException, *, stage: str, component: str) -> Failure:
        if isinstance(exc, PolicyRayError):
            category, page = exc.category, exc.page
            stage = exc.stage or stage
            message = exc.message
        elif isinstance(exc, MemoryError):
            category, page, message = FailureCategory.MEMORY_LIMIT, None, "memory ceiling reached"
        else:
            category, page = FailureCategory.INTERNAL_ERROR, None
            message = f"{type(exc).__name__}: {exc}"[:2000]
        return cls(
            category=category,
            stage=stage,
            message=message,
            component=component,
            page=page,
            stack_trace="".join(traceback.format_exception(exc))[-8000:],
            retryable=is_retryable(category),
        )

    @classmethod
    def of(cls, category: FailureCategory, stage: str, message: str, *, component: str = "policy_ray",
           page: int | None = None) -> Failure:
        return cls(category=category, stage=stage, message=message, component=component, page=page,
                   retryable=is_retryable(category))
