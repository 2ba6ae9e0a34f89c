"""Reconciliation, pure: expected against actual field counts per template, route mix against the
trailing baseline, and completeness. Inputs are plain counts; the flow gathers them from the tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ReconcileConfig:
    version: str
    max_unaccounted: int
    baseline_batches: int
    fill_min_documents: int
    max_fill_drop: float
    fields: tuple[str, ...]
    mix_min_documents: int
    max_dead_letter_rise: float
    max_ocr_rise: float

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ReconcileConfig:
        fill, mix = data["fill_rate"], data["route_mix"]
        return cls(version=str(data["version"]), max_unaccounted=int(data["completeness"]["max_unaccounted"]),
                   baseline_batches=int(fill["baseline_batches"]), fill_min_documents=int(fill["min_documents"]),
                   max_fill_drop=float(fill["max_drop"]), fields=tuple(fill["fields"]),
                   mix_min_documents=int(mix["min_documents"]), max_dead_letter_rise=float(mix["max_dead_letter_rise"]),
                   max_ocr_rise=float(mix["max_ocr_rise"]))


@dataclass
class TemplateFill:
    """Documents a template recognized in one batch, and how many had each field."""

    documents: int = 0
    filled: dict[str, int] = field(default_factory=dict)

    def add(self, record: Mapping[str, Any], fields: Sequence[str]) -> None:
        self.documents += 1
        for name in fields:
            value = record.get(name)
            if value not in (None, "", [], ()):
                self.filled[name] = self.filled.get(name, 0) + 1

    def rate(self, name: str) -> float:
        return self.filled.get(name, 0) / self.documents if self.documents else 0.0


@dataclass(frozen=True)
class BatchFigures:
    batch_id: str
    listed: int
    accounted: int  # distinct listed files with exactly one ledger row
    duplicated_ledger: int  # files with more than one ledger row
    dead_lettered: int
    sent_to_ocr: int
    fills: Mapping[str, TemplateFill]


@dataclass(frozen=True)
class Deviation:
    check: str  # completeness | fill_rate | route_mix
    subject: str  # what deviates: a template and field, a route
    message: str
    observed: float
    expected: float


def reconcile(tonight: BatchFigures, baseline: Iterable[BatchFigures], config: ReconcileConfig) -> list[Deviation]:
    history = list(baseline)[-config.baseline_batches:]
    deviations = _completeness(tonight, config)
    deviations += _fill_rates(tonight, history, config)
    deviations += _route_mix(tonight, history, config)
    return deviations


def _completeness(night: BatchFigures, config: ReconcileConfig) -> list[Deviation]:
    missing = night.listed - night.accounted
    out: list[Deviation] = []
    if missing > config.max_unaccounted:
        out.append(Deviation("completeness", "documents", f"{missing} of {night.listed} listed documents are not "
                             "accounted for exactly once", night.accounted, night.listed))
    if night.duplicated_ledger:
        out.append(Deviation("completeness", "documents", f"{night.duplicated_ledger} documents are recorded more "
                             "than once", night.duplicated_ledger, 0))
    return out


def _fill_rates(night: BatchFigures, history: list[BatchFigures], config: ReconcileConfig) -> list[Deviation]:
    out: list[Deviation] = []
    for template, fill in sorted(night.fills.items()):
        past = [b.fills[template] for b in history if template in b.fills]
        past_docs = sum(f.documents for f in past)
        if fill.documents < config.fill_min_documents or past_docs < config.fill_min_documents:
            continue
        for name in config.fields:
            expected = sum(f.filled.get(name, 0) for f in past) / past_docs
            observed = fill.rate(name)
            if expected - observed > config.max_fill_drop:
                out.append(Deviation("fill_rate", f"{template}.{name}",
                                     f"template {template} lost field {name}: filled in {observed:.0%} of "
                                     f"{fill.documents} documents against {expected:.0%} in the baseline "
                                     "(did the carrier change its layout?)", observed, expected))
    return out


def _route_mix(night: BatchFigures, history: list[BatchFigures], config: ReconcileConfig) -> list[Deviation]:
    judged = [b for b in history if b.listed >= config.mix_min_documents]
    if night.listed < config.mix_min_documents or not judged:
        return []
    out: list[Deviation] = []
    for route, value, rise in (("dead_letter", lambda b: b.dead_lettered, config.max_dead_letter_rise),
                               ("ocr", lambda b: b.sent_to_ocr, config.max_ocr_rise)):
        expected = sum(value(b) for b in judged) / sum(b.listed for b in judged)
        observed = value(night) / night.listed
        if observed - expected > rise:
            out.append(Deviation("route_mix", route, f"{route} share {observed:.0%} against {expected:.0%} in the "
                                 "baseline", observed, expected))
    return out
