"""Reconciliation, pure: completeness across the tables, expected against actual field counts per
template, and route mix against the trailing baseline. Inputs are keys and counts; the flow
(flows/reconcile_figures.py) gathers them from the tables."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from policy_ray.core.audit_chain import Stage
from policy_ray.core.identity import canonical_sha256

COMMITTED, DEAD_LETTERED, DUPLICATE = "committed", "dead_lettered", "duplicate"  # ledger dispositions
EXAMPLES = 3  # keys quoted per completeness problem: enough to start looking, never the whole night


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
    ocr_categories: frozenset[str]
    ocr_stages: frozenset[str]
    worst_documents: int

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ReconcileConfig:
        fill, mix, report = data["fill_rate"], data["route_mix"], data.get("report", {})
        return cls(version=str(data["version"]), max_unaccounted=int(data["completeness"]["max_unaccounted"]),
                   baseline_batches=int(fill["baseline_batches"]), fill_min_documents=int(fill["min_documents"]),
                   max_fill_drop=float(fill["max_drop"]), fields=tuple(fill["fields"]),
                   mix_min_documents=int(mix["min_documents"]), max_dead_letter_rise=float(mix["max_dead_letter_rise"]),
                   max_ocr_rise=float(mix["max_ocr_rise"]), ocr_categories=frozenset(mix["ocr_categories"]),
                   ocr_stages=frozenset(mix["ocr_stages"]), worst_documents=int(report.get("worst_documents", 15)))


@dataclass
class TemplateFill:
    """Documents a template recognized in one batch, and how many had each field."""

    documents: int = 0
    filled: dict[str, int] = field(default_factory=dict)

    def add(self, record: Mapping[str, Any], fields: Sequence[str]) -> None:
        self.documents += 1
        for name in fields:
            if is_filled(record.get(name)):
                self.filled[name] = self.filled.get(name, 0) + 1

    def rate(self, name: str) -> float:
        return self.filled.get(name, 0) / self.documents if self.documents else 0.0


def is_filled(value: Any) -> bool:
    return value not in (None, "", [], ())


def counts_as_ocr(failure_category: str | None, failure_stage: str | None, config: ReconcileConfig) -> bool:
    """A dead letter that went (or was bound) to OCR: it counts in the night's OCR share like an
    accepted row with extraction_path = 'ocr'."""
    return failure_category in config.ocr_categories or failure_stage in config.ocr_stages


@dataclass(frozen=True)
class Problem:
    count: int = 0
    examples: tuple[str, ...] = ()

    @classmethod
    def of(cls, items: Iterable[str]) -> Problem:
        found = sorted(set(items))
        return cls(len(found), tuple(k[:16] for k in found[:EXAMPLES]))

    def quote(self) -> str:
        return f" (e.g. {', '.join(self.examples)})" if self.examples else ""


@dataclass(frozen=True)
class Completeness:
    """Every listed document accounted for exactly once, and every ledger entry backed by its row and
    its audit entry (and the other way round)."""

    listed: int
    recorded: int  # distinct files in the ledger
    recorded_twice: Problem = Problem()  # files with more than one ledger row
    rows_wrong: Problem = Problem()  # ledger entries without exactly one row in policies / dead_letters
    entries_missing: Problem = Problem()  # ledger entries without the audit entry of their disposition
    rows_unrecorded: Problem = Problem()  # rows the ledger does not record with that disposition
    entries_unrecorded: Problem = Problem()  # committed / dead_lettered / duplicate entries the ledger lacks

    def counts(self) -> dict[str, int]:
        return {"listed": self.listed, "recorded": self.recorded, "recorded_twice": self.recorded_twice.count,
                "rows_wrong": self.rows_wrong.count, "entries_missing": self.entries_missing.count,
                "rows_unrecorded": self.rows_unrecorded.count, "entries_unrecorded": self.entries_unrecorded.count}


_ENTRY_OF = {COMMITTED: Stage.COMMITTED.value, DEAD_LETTERED: Stage.DEAD_LETTERED.value,
             DUPLICATE: Stage.DUPLICATE.value}


def check_completeness(listed: int | None, ledger: Iterable[tuple[str, str, str]], policies: Iterable[str],
                       dead_letters: Iterable[str], entries: Iterable[tuple[str, str]]) -> Completeness:
    """`ledger`: (source_uri, idempotency_key, disposition) rows of the batch; `policies`,
    `dead_letters`: the batch's row keys; `entries`: its (idempotency_key, stage) audit entries."""
    per_file: Counter[str] = Counter()
    recorded: dict[str, set[str]] = {d: set() for d in _ENTRY_OF}
    for uri, key, disposition in ledger:
        per_file[uri] += 1
        recorded.setdefault(disposition, set()).add(key)
    rows = {COMMITTED: Counter(policies), DEAD_LETTERED: Counter(dead_letters)}
    audited: dict[str, set[str]] = {stage: set() for stage in _ENTRY_OF.values()}
    for key, stage in entries:
        if stage in audited and key:
            audited[stage].add(key)
    return Completeness(
        listed=len(per_file) if listed is None else listed,
        recorded=len(per_file),
        recorded_twice=Problem.of(uri for uri, n in per_file.items() if n > 1),
        rows_wrong=Problem.of(k for d, table in rows.items() for k in recorded[d] if table[k] != 1),
        entries_missing=Problem.of(k for d, stage in _ENTRY_OF.items() for k in recorded[d] if k not in audited[stage]),
        rows_unrecorded=Problem.of(k for d, table in rows.items() for k in table if k not in recorded[d]),
        entries_unrecorded=Problem.of(k for d, stage in _ENTRY_OF.items() for k in audited[stage]
                                      if k not in recorded[d]),
    )


@dataclass(frozen=True)
class BatchFigures:
    batch_id: str
    listed: int
    dead_lettered: int
    ocr: int  # accepted through OCR + dead letters of the OCR route (counts_as_ocr), over the whole night
    fills: Mapping[str, TemplateFill]
    completeness: Completeness | None = None  # gathered for the batch being judged, not for its baseline
    replay: bool = False  # a dead-letter replay: no baseline of its own, never in one

    def fingerprint(self) -> str:
        """What the batch's judgment rests on: a review (quarantine, release) records it, and a later
        reconciliation compares to see whether the batch changed since."""
        return canonical_sha256({
            "listed": self.listed, "dead_lettered": self.dead_lettered, "ocr": self.ocr,
            "fills": {t: [f.documents, sorted(f.filled.items())] for t, f in sorted(self.fills.items())},
            "completeness": self.completeness.counts() if self.completeness else None,
        })


@dataclass(frozen=True)
class Deviation:
    check: str  # completeness | fill_rate | route_mix
    subject: str  # what deviates: a template and field, a route, a table
    message: str
    observed: float
    expected: float

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "subject": self.subject, "message": self.message,
                "observed": self.observed, "expected": self.expected}


def baseline_of(history: Iterable[BatchFigures], config: ReconcileConfig) -> list[BatchFigures]:
    """The trailing `baseline_batches` nights of `history` (oldest first); replays never count."""
    nights = [b for b in history if not b.replay]
    return nights[-config.baseline_batches:] if config.baseline_batches > 0 else []


def reconcile(tonight: BatchFigures, baseline: Iterable[BatchFigures], config: ReconcileConfig) -> list[Deviation]:
    deviations = _completeness(tonight.completeness, config) if tonight.completeness else []
    if tonight.replay:
        return deviations  # a selection of failed documents: its fill rates and route mix say nothing
    history = baseline_of(baseline, config)
    return deviations + _fill_rates(tonight, history, config) + _route_mix(tonight, history, config)


def _completeness(c: Completeness, config: ReconcileConfig) -> list[Deviation]:
    out: list[Deviation] = []

    def over(n: int, subject: str, message: str, observed: float, expected: float) -> None:
        if n > config.max_unaccounted:
            out.append(Deviation("completeness", subject, message, observed, expected))

    over(c.listed - c.recorded, "ledger", f"{c.listed - c.recorded} of {c.listed} listed documents have no "
         "ledger row (the batch is marked done with documents missing)", c.recorded, c.listed)
    over(c.recorded - c.listed, "ledger", f"{c.recorded - c.listed} more documents are in the ledger than the "
         f"batch listed ({c.listed})", c.recorded, c.listed)
    over(c.recorded_twice.count, "ledger", f"{c.recorded_twice.count} documents are recorded more than once"
         + c.recorded_twice.quote(), c.recorded_twice.count, 0)
    over(c.rows_wrong.count, "rows", f"{c.rows_wrong.count} ledger entries do not have exactly one row in policies "
         "or dead_letters" + c.rows_wrong.quote(), c.rows_wrong.count, 0)
    over(c.entries_missing.count, "audit_log", f"{c.entries_missing.count} ledger entries have no audit entry of "
         "their disposition" + c.entries_missing.quote(), c.entries_missing.count, 0)
    over(c.rows_unrecorded.count, "rows", f"{c.rows_unrecorded.count} rows in policies or dead_letters are not in "
         "the ledger" + c.rows_unrecorded.quote(), c.rows_unrecorded.count, 0)
    over(c.entries_unrecorded.count, "audit_log", f"{c.entries_unrecorded.count} audit entries name documents the "
         "ledger does not record" + c.entries_unrecorded.quote(), c.entries_unrecorded.count, 0)
    return out


def _fill_rates(night: BatchFigures, history: list[BatchFigures], config: ReconcileConfig) -> list[Deviation]:
    out: list[Deviation] = []
    for template, fill in sorted(night.fills.items()):
        past = [b.fills[template] for b in history if template in b.fills]
        past_docs = sum(f.documents for f in past)
        if fill.documents < config.fill_min_documents or past_docs < config.fill_min_documents:
            continue  # too few documents tonight or in the baseline to tell a change from chance
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
                               ("ocr", lambda b: b.ocr, config.max_ocr_rise)):
        expected = sum(value(b) for b in judged) / sum(b.listed for b in judged)
        observed = value(night) / night.listed
        if observed - expected > rise:
            out.append(Deviation("route_mix", route, f"{route} share {observed:.0%} against {expected:.0%} in the "
                                 "baseline", observed, expected))
    return out
