"""The routing matrix: which way a mapped document goes (accept, OCR, dead letter).

The matrix is versioned data (policy_ray/defaults/routing.toml): an ordered list of rows, each a set
of conditions and a route; the first row whose conditions all hold wins. Conditions a row leaves out
match anything. Thresholds turn a document's confidence into a band the rows can name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from policy_ray.core.models import OPTIONAL_FIELDS, MappedDocument, PolicyRecord
from policy_ray.errors import FailureCategory


class Route(StrEnum):
    ACCEPT = "accept"
    OCR = "ocr"
    DEAD_LETTER = "dead_letter"


class Band(StrEnum):
    ACCEPT = "accept"  # confidence >= thresholds.accept
    REVIEW = "review"  # between the OCR and accept thresholds: a person should look
    OCR = "ocr"  # below thresholds.ocr: the text path is not to be trusted


@dataclass(frozen=True)
class Thresholds:
    accept: float
    ocr: float
    field_keep: float

    def band(self, confidence: float) -> Band:
        if confidence >= self.accept:
            return Band.ACCEPT
        return Band.REVIEW if confidence >= self.ocr else Band.OCR


@dataclass(frozen=True)
class MatrixRow:
    name: str
    route: Route
    category: FailureCategory | None
    conditions: Mapping[str, Any]

    def matches(self, facts: Mapping[str, Any]) -> bool:
        return all(facts.get(k) == v for k, v in self.conditions.items())


CONDITION_KEYS = ("source", "text_layer", "recognized", "valid", "band", "ocr_available")


@dataclass(frozen=True)
class RoutingMatrix:
    version: str
    thresholds: Thresholds
    rows: tuple[MatrixRow, ...]


@dataclass(frozen=True)
class Decision:
    route: Route
    rule: str
    confidence: float
    category: FailureCategory | None = None
    reason: str = ""


def matrix_from_dict(data: Mapping[str, Any]) -> RoutingMatrix:
    t = data["thresholds"]
    thresholds = Thresholds(accept=float(t["accept"]), ocr=float(t["ocr"]), field_keep=float(t["field_keep"]))
    if not 0.0 <= thresholds.ocr <= thresholds.accept <= 1.0:
        raise ValueError("routing thresholds must satisfy 0 <= ocr <= accept <= 1")
    rows = []
    for row in data["matrix"]:
        conditions = {k: v for k, v in row.items() if k in CONDITION_KEYS}
        unknown = set(row) - set(CONDITION_KEYS) - {"name", "route", "category"}
        if unknown:
            raise ValueError(f"routing row {row.get('name')!r}: unknown keys {sorted(unknown)}")
        route = Route(row["route"])
        category = FailureCategory(row["category"]) if row.get("category") else None
        if route is not Route.ACCEPT and category is None:
            raise ValueError(f"routing row {row['name']!r} must name a failure category")
        rows.append(MatrixRow(row["name"], route, category, conditions))
    if not rows or rows[-1].conditions:
        raise ValueError("the routing matrix must end with a catch-all row (no conditions)")
    return RoutingMatrix(version=str(data["version"]), thresholds=thresholds, rows=tuple(rows))


def route_document(mapped: MappedDocument, *, source: str, text_layer: bool, ocr_available: bool,
                   matrix: RoutingMatrix) -> Decision:
    required_errors = [e for e in mapped.validation_errors if e.split(":", 1)[0] in mapped.required]
    facts = {
        "source": source,
        "text_layer": text_layer,
        "recognized": mapped.recognized,
        "valid": not required_errors,
        "band": matrix.thresholds.band(mapped.confidence).value,
        "ocr_available": ocr_available,
    }
    row = next(r for r in matrix.rows if r.matches(facts))
    reason = "; ".join(required_errors) or _weakest(mapped)
    return Decision(route=row.route, rule=row.name, confidence=mapped.confidence, category=row.category,
                    reason=reason)


def _weakest(mapped: MappedDocument) -> str:
    missing = mapped.missing_required
    if missing:
        return "missing " + ", ".join(missing)
    name = min(mapped.required, key=lambda n: mapped.field_confidence.get(n, 0.0))
    return f"lowest confidence: {name}={mapped.field_confidence.get(name, 0.0):.2f}"


def gate_optional_fields(record: PolicyRecord, confidence: Mapping[str, float], keep: float,
                         fields: Sequence[str] = OPTIONAL_FIELDS) -> PolicyRecord:
    """Null every optional field whose evidence is below the keep threshold: no unsupported values."""
    changes: dict[str, Any] = {}
    for name in fields:
        if confidence.get(name, 0.0) < keep and getattr(record, name):
            changes[name] = () if name == "coverages" else None
    return dataclasses.replace(record, **changes) if changes else record
