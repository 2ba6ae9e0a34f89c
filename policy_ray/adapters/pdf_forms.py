"""pypdf: values of fillable form fields (AcroForm), as producers leave them on certificates."""

from __future__ import annotations

import io

from pypdf import PdfReader
from pypdf.errors import PyPdfError


def form_field_values(data: bytes) -> dict[str, str]:
    """Non-empty text field values by full field name; empty when the PDF has no usable form."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if "/AcroForm" not in reader.root_object:
            return {}
        fields = reader.get_form_text_fields() or {}
    except (PyPdfError, KeyError, ValueError, TypeError, AttributeError, RecursionError):
        return {}
    return {name: str(value).strip() for name, value in fields.items() if value and str(value).strip()}
