"""Carrier template registry: which template a document matches, and the field rules it brings.

Templates are versioned data (TOML files under policy_ray/defaults/templates/), parsed here from plain
dicts so the core stays free of I/O. A document no template recognizes is mapped by the generic label
rules alone, with lower confidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

GENERIC_TEMPLATE_ID = "generic"


@dataclass(frozen=True)
class FieldRule:
    """How a template finds one field: its labels and, optionally, the shape the value must have."""

    labels: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    form_fields: tuple[str, ...] = ()  # AcroForm field names (suffix match), for fillable forms


@dataclass(frozen=True)
class Template:
    id: str
    version: str
    document_type: str
    kind: str  # "layout" (text on the page) or "acroform" (fillable form fields)
    carrier_name: str | None = None
    currency: str | None = None
    fingerprint_all: tuple[str, ...] = ()
    fingerprint_any: tuple[str, ...] = ()  # distinctive phrases anywhere (the carrier's form codes)
    fingerprint_heading: tuple[str, ...] = ()  # ... or in the top heading of page 1 (the carrier's name)
    fingerprint_alternatives: tuple[tuple[str, ...], ...] = ()  # other sets of phrases that all identify it
    form_field_markers: tuple[str, ...] = ()
    fields: Mapping[str, FieldRule] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)

    def matches_text(self, text: str, heading: str = "") -> bool:
        """All of `all`, and a distinctive sign: one of `any` anywhere or one of `heading` in the
        heading (when the template names any); or every phrase of one of the alternatives."""
        folded = _fold(text)
        if any(alt and all(_fold(s) in folded for s in alt) for alt in self.fingerprint_alternatives):
            return True
        if not self.fingerprint_all and not self.fingerprint_any:
            return False
        if not all(_fold(s) in folded for s in self.fingerprint_all):
            return False
        if not self.fingerprint_any and not self.fingerprint_heading:
            return True
        top = _fold(heading)
        return (any(_fold(s) in folded for s in self.fingerprint_any)
                or any(_fold(s) in top for s in self.fingerprint_heading))

    def matches_form(self, field_names: Iterable[str]) -> bool:
        names = list(field_names)
        return bool(self.form_field_markers) and all(
            any(marker in name for name in names) for marker in self.form_field_markers
        )


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).casefold()


def template_from_dict(data: Mapping[str, Any]) -> Template:
    fingerprint = data.get("fingerprint", {})
    rules = {
        name: FieldRule(
            labels=tuple(spec.get("labels", ())),
            pattern=re.compile(spec["pattern"]) if spec.get("pattern") else None,
            form_fields=tuple(spec.get("form_fields", ())),
        )
        for name, spec in data.get("fields", {}).items()
    }
    return Template(
        id=data["id"],
        version=str(data["version"]),
        document_type=data.get("document_type", "declarations"),
        kind=data.get("kind", "layout"),
        carrier_name=data.get("carrier_name"),
        currency=data.get("currency"),
        fingerprint_all=tuple(fingerprint.get("all", ())),
        fingerprint_any=tuple(fingerprint.get("any", ())),
        fingerprint_heading=tuple(fingerprint.get("heading", ())),
        fingerprint_alternatives=tuple(tuple(alt) for alt in fingerprint.get("alternatives", ())),
        form_field_markers=tuple(fingerprint.get("form_fields", ())),
        fields=rules,
        options=data.get("options", {}),
    )


@dataclass(frozen=True)
class TemplateRegistry:
    templates: tuple[Template, ...]
    generic_labels: Mapping[str, tuple[str, ...]]
    version: str = ""
    other_labels: tuple[str, ...] = ()  # labels of fields we do not map: they end a value

    def match(self, text: str, form_field_names: Iterable[str] = (), heading: str = "") -> Template | None:
        names = list(form_field_names)
        if names:
            for t in self.templates:
                if t.kind == "acroform" and t.matches_form(names):
                    return t
        for t in self.templates:
            if t.kind == "layout" and t.matches_text(text, heading):
                return t
        return None


def registry_from_dicts(templates: Iterable[Mapping[str, Any]], labels: Mapping[str, Any]) -> TemplateRegistry:
    parsed = tuple(sorted((template_from_dict(t) for t in templates), key=lambda t: t.id))
    ids = [t.id for t in parsed]
    if len(ids) != len(set(ids)):
        raise ValueError(f"duplicate template ids: {ids}")
    generic = {name: tuple(spec.get("labels", ())) for name, spec in labels.get("fields", {}).items()}
    other = tuple(labels.get("other", {}).get("labels", ()))
    return TemplateRegistry(templates=parsed, generic_labels=generic, version=str(labels.get("version", "")),
                            other_labels=other)
