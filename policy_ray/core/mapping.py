"""Raw extraction -> normalized policy record with per-field confidence.

One mapping for every source: pdfplumber words and OCR words both arrive as positioned words, so a
template written once serves scanned and digital documents alike. The recipe:

    lines -> template match -> labelled fields -> coverage schedule -> cross-field checks -> record
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from policy_ray.core import certificate
from policy_ray.core.carrier_text import carriers_from_text
from policy_ray.core.confidence import (
    CONFLICT_FACTOR,
    EVIDENCE_BASE,
    REPAIRED_COVERAGE,
    RIVAL_CONFIDENCE,
    UNNAMED_SPLIT_LIMIT,
    UNREAD_AMOUNT,
    check_term,
    name_casing,
    premiums_agree,
    recognition,
    scale,
    term_is_regular,
)
from policy_ray.core.country import country_signals
from policy_ray.core.coverage_cells import parse_table_from_cells
from policy_ray.core.coverage_table import ColumnKeywords, TableResult, parse_table_from_lines
from policy_ray.core.heading import HeadingRules, carrier_from_heading, heading_text, name_key
from policy_ray.core.labels import LabelHit, find_label_values, key_value_column, split_at_labels
from policy_ray.core.layout import Line, page_lines
from policy_ray.core.margins import with_margins
from policy_ray.core.models import Coverage, MappedDocument, PolicyRecord, RawExtraction
from policy_ray.core.names import clean_name
from policy_ray.core.table_choice import choose_tables
from policy_ray.core.templates import GENERIC_TEMPLATE_ID, Template, TemplateRegistry
from policy_ray.core.values import (
    clean_policy_number,
    detect_currency,
    find_dates,
    numeric_date_order,
    parse_date,
    parse_money,
    stated_currency,
)

LABELLED_FIELDS = ("policy_number", "insured_name", "effective_date", "expiration_date", "total_premium",
                   "carrier_name", "policy_period")
# Evidence kinds a value can be stronger in than another's: read from a named form field, or found by
# the carrier template's own label. Everything else (generic labels, headings, tables) is one kind.
KIND_RANK = {"form_field": 2, "template_label": 1}


def value_checks(day_first: bool | None) -> dict[str, Callable[[str], bool]]:
    """Whether a label's neighbouring text can be the field's value at all (parses as its type)."""
    return {
        "policy_number": lambda v: clean_policy_number(v) is not None,
        "insured_name": lambda v: clean_name(v) is not None,
        "carrier_name": lambda v: clean_name(v) is not None,
        "effective_date": lambda v: bool(find_dates(v, day_first=day_first)),
        "expiration_date": lambda v: bool(find_dates(v, day_first=day_first)),
        "policy_period": lambda v: len(find_dates(v, day_first=day_first)) >= 2,
        "total_premium": lambda v: parse_money(v) is not None,
    }


@dataclass
class Candidate:
    value: Any
    confidence: float
    evidence: str
    ambiguous: bool = False  # the text has another reading the document does not rule out
    kind: str = ""  # evidence kind (EVIDENCE_BASE key)


def same_value(a: Any, b: Any) -> bool:
    """Two readings of one value: names and numbers compare without case, spacing or punctuation."""
    if isinstance(a, str) and isinstance(b, str):
        return name_key(a) == name_key(b)
    return bool(a == b)


@dataclass
class FieldVotes:
    """All candidate values for one field; the best wins, a credible disagreement lowers confidence."""

    candidates: list[Candidate] = field(default_factory=list)

    def add(self, value: Any, confidence: float, evidence: str, *, ambiguous: bool = False, kind: str = "") -> None:
        if value is not None and confidence > 0:
            self.candidates.append(Candidate(value, confidence, evidence, ambiguous, kind))

    def best(self) -> Candidate | None:
        if not self.candidates:
            return None
        ranked = sorted(self.candidates, key=lambda c: -c.confidence)
        top = ranked[0]
        # A different value with decent confidence contradicts the winner, however far below it,
        # unless the winner's evidence is stronger in kind (a form field, the template's own label).
        rivals = [c for c in ranked[1:] if not same_value(c.value, top.value)
                  and c.confidence >= min(RIVAL_CONFIDENCE, top.confidence - 0.08)
                  and KIND_RANK.get(top.kind, 0) <= KIND_RANK.get(c.kind, 0)]
        if rivals:
            return Candidate(top.value, scale(top.confidence, CONFLICT_FACTOR),
                             f"{top.evidence}; conflicts with {rivals[0].evidence}", top.ambiguous, top.kind)
        return top


@dataclass(frozen=True)
class MappingConfig:
    registry: TemplateRegistry
    columns: ColumnKeywords
    heading: HeadingRules
    qualifiers: tuple[str, ...] = ()  # words that make a label name another party ("Additional Insured")


def map_document(raw: RawExtraction, config: MappingConfig) -> MappedDocument:
    # The skipped pages' headers and footers are read with the pages, as if those pages had been read.
    pages = [page_lines(p) for p in with_margins(raw)]
    lines = [line for page in pages for line in page]
    text = "\n".join(line.text for line in lines)
    form = dict(raw.form_fields)
    template = config.registry.match(text, form.keys(), heading=heading_text(lines))
    if template is not None and template.kind == "acroform":
        return certificate.map_form(form, template, certificate_text=text)
    if template is not None and template.options.get("mode") == "certificate":
        return certificate.map_text(pages, template)
    return _map_declarations(raw, lines, text, template, config)


def _map_declarations(
    raw: RawExtraction,
    lines: Sequence[Line],
    text: str,
    template: Template | None,
    config: MappingConfig,
) -> MappedDocument:
    votes: dict[str, FieldVotes] = {name: FieldVotes() for name in LABELLED_FIELDS}
    field_labels = [lab for labs in config.registry.generic_labels.values() for lab in labs]
    if template is not None:
        field_labels += [lab for rule in template.fields.values() for lab in rule.labels]
    all_labels = [*field_labels, *config.registry.other_labels]
    lines = split_at_labels(lines, all_labels, qualifiers=config.qualifiers, row_labels=field_labels)
    pages = _by_page(lines)
    width = raw.pages[0].width if raw.pages else 612.0
    day_first = _date_order(template, text)
    checks = value_checks(day_first)

    found: list[tuple[str, str, LabelHit]] = []
    for name in LABELLED_FIELDS:
        sources: list[tuple[str, Sequence[str]]] = []
        if template is not None and name in template.fields:
            sources.append(("template_label", template.fields[name].labels))
        sources.append(("generic_label", config.registry.generic_labels.get(name, ())))
        for evidence_kind, labels in sources:
            hits = find_label_values(lines, labels, stop_labels=all_labels, page_width=width,
                                     whole_line=name in ("policy_period", "effective_date", "expiration_date"),
                                     accept=checks[name], name_block=name == "insured_name")
            found.extend((name, evidence_kind, hit) for hit in hits)
    label_hits = len(found)
    grid = key_value_column(hit for _, _, hit in found)
    for name, evidence_kind, hit in found:
        _vote(votes, name, hit, evidence_kind, template, day_first, in_grid=hit in grid)

    carrier_labels = set(config.registry.generic_labels.get("carrier_name", ()))
    if template is not None and "carrier_name" in template.fields:
        carrier_labels.update(template.fields["carrier_name"].labels)
    heading = carrier_from_heading(
        lines, config.heading,
        skip={hit.line for _, _, hit in found},
        labels=all_labels,
        carrier_labels=carrier_labels,
        not_names={name_key(c.value) for c in votes["insured_name"].candidates},
    )
    if template is not None and template.carrier_name:
        votes["carrier_name"].add(template.carrier_name, EVIDENCE_BASE["template_constant"],
                                  f"template:{template.id}", kind="template_constant")
    if heading is not None:
        # The heading competes with the template and the labels: a different insurer named at the top of
        # page 1 contradicts them. Agreeing, it adds nothing they do not already say.
        evidence = "heading:page1" + ("" if heading.corroborated else " (said nowhere else)")
        votes["carrier_name"].add(heading.name, heading.confidence, evidence, kind="heading")
    # So does an insurer named in a footer, a running header or "underwritten by ...": where the heading
    # names none, it is the carrier, trusted like a heading only when the document says it again.
    heights = {p.number: p.height for p in with_margins(raw)}
    for named in carriers_from_text(lines, heights, config.heading, labels=all_labels, carrier_labels=carrier_labels,
                                    not_names={name_key(c.value) for c in votes["insured_name"].candidates}):
        evidence = named.evidence + ("" if named.corroborated else " (said nowhere else)")
        votes["carrier_name"].add(named.name, named.confidence, evidence, kind="running_text")

    table = _coverage_table(raw, pages, config)
    return _assemble(votes, table, template, text, label_hits)


def _by_page(lines: Sequence[Line]) -> list[list[Line]]:
    pages: dict[int, list[Line]] = {}
    for line in lines:
        pages.setdefault(line.page, []).append(line)
    return [pages[p] for p in sorted(pages)]


def _date_order(template: Template | None, text: str) -> bool | None:
    """How this document writes numeric dates: a template may say; otherwise the document shows it."""
    order = template.options.get("date_order") if template is not None else None
    if order in ("dmy", "mdy"):
        return order == "dmy"
    stated = (template.currency if template is not None else None) or stated_currency(text)
    return numeric_date_order(text, stated, country_signals(text))


def _vote(votes: dict[str, FieldVotes], name: str, hit: LabelHit, evidence_kind: str,
          template: Template | None, day_first: bool | None, *, in_grid: bool = False) -> None:
    base = EVIDENCE_BASE[evidence_kind]
    if hit.placement == "below" and evidence_kind == "generic_label":
        base = EVIDENCE_BASE["generic_label_below"]
    elif hit.placement == "right_unseparated" and not in_grid:
        base *= 0.92  # "Label   Value" with no colon: could be two captions side by side
    if hit.page > 1:
        base *= 0.9  # fields live on the first pages; a later hit is more likely policy wording
    base *= hit.quality
    where = f"{evidence_kind}:{hit.label}@p{hit.page}/{hit.placement}"
    kind = evidence_kind

    def add(field_name: str, value: Any, confidence: float, *, ambiguous: bool = False) -> None:
        votes[field_name].add(value, confidence, where, ambiguous=ambiguous, kind=kind)

    if name == "policy_number":
        number = clean_policy_number(hit.value)
        if number is None:
            return
        rule = template.fields.get(name) if template else None
        shape = 1.0
        if rule and rule.pattern is not None:
            shape = 1.0 if rule.pattern.fullmatch(number) else 0.5  # a template knows its numbers' shape
        add(name, number, scale(base, recognition(hit.conf), shape))
    elif name in ("insured_name", "carrier_name"):
        value = clean_name(hit.value)
        if value:
            add(name, value, scale(base, recognition(hit.conf), name_casing(value)))
    elif name in ("effective_date", "expiration_date"):
        dates = find_dates(hit.value, day_first=day_first)
        if dates:  # the first date after the label; a second one would be the other end of a range
            add(name, dates[0].value, scale(base, recognition(hit.conf), dates[0].quality,
                                            1.0 if len(dates) == 1 else 0.97), ambiguous=dates[0].order_assumed)
    elif name == "policy_period":
        dates = find_dates(hit.value, day_first=day_first)
        if len(dates) >= 2:
            q = scale(base, recognition(hit.conf), min(dates[0].quality, dates[1].quality))
            add("effective_date", dates[0].value, q, ambiguous=dates[0].order_assumed)
            add("expiration_date", dates[1].value, q, ambiguous=dates[1].order_assumed)
    elif name == "total_premium":
        money = parse_money(hit.value)
        if money is not None:
            add(name, money.amount, scale(base, recognition(hit.conf), money.quality))


def _coverage_table(raw: RawExtraction, pages: Sequence[Sequence[Line]], config: MappingConfig) -> TableResult | None:
    from_words = parse_table_from_lines(pages, config.columns)
    # One engine's copy of each ruled table, chosen region by region by its evidence (core/table_choice.py):
    # never pdfplumber's and camelot's copies of one table together.
    grids = choose_tables([t for p in raw.pages for t in p.tables], config.columns)
    from_cells = parse_table_from_cells(grids, config.columns)
    candidates = [c for c in (from_words, from_cells) if c is not None]
    if not candidates:
        return None

    def rank(t: TableResult) -> tuple[int, int, int]:
        # Rows that add up to the total first, then more rows; the words' reading on a tie.
        agrees = premiums_agree(t.total, t.premiums) or _due_agrees(t)
        return (1 if agrees else 0, len(t.rows), 1 if t.source == "words" else 0)

    return max(candidates, key=rank)


def _due_agrees(table: TableResult) -> bool | None:
    """Whether the amount due is the coverage premiums plus the fee and tax rows."""
    if table.due is None:
        return None
    return premiums_agree(table.due - sum(table.charges, Decimal("0")), table.premiums)


def _assemble(votes: dict[str, FieldVotes], table: TableResult | None, template: Template | None, text: str,
              label_hits: int) -> MappedDocument:
    chosen = {name: votes[name].best() for name in votes}
    conf: dict[str, float] = {n: (c.confidence if c else 0.0) for n, c in chosen.items() if n != "policy_period"}
    evidence = {n: c.evidence for n, c in chosen.items() if c is not None}
    errors: list[str] = []

    coverages: tuple[Coverage, ...] = ()
    total = chosen["total_premium"].value if chosen["total_premium"] else None
    if table is not None:
        coverages = tuple(r.coverage for r in table.rows)
        total = _check_schedule(table, total, conf, evidence, errors)
    _check_term(chosen["effective_date"], chosen["expiration_date"], conf, errors)
    effective = chosen["effective_date"].value if chosen["effective_date"] else None
    expiration = chosen["expiration_date"].value if chosen["expiration_date"] else None

    stated = (template.currency if template and template.currency else None) or stated_currency(text)
    if table is not None and table.currency:
        stated = table.currency
    # A currency the document states is certain; a bare "$" is the dollar of the country its addresses
    # name (US dollars when none is named), which is likely but not stated.
    currency = stated or detect_currency(text)
    conf["currency"] = 0.97 if stated else (0.9 if currency else 0.0)

    record = PolicyRecord(
        document_type=template.document_type if template else "declarations",
        template_id=template.id if template else GENERIC_TEMPLATE_ID,
        template_version=template.version if template else "",
        carrier_name=_value(chosen["carrier_name"]),
        policy_number=_value(chosen["policy_number"]),
        insured_name=_value(chosen["insured_name"]),
        effective_date=_as_date(effective),
        expiration_date=_as_date(expiration),
        total_premium=total if isinstance(total, Decimal) else None,
        currency=currency,
        coverages=coverages,
    )
    return MappedDocument(
        record=record,
        field_confidence=conf,
        evidence=evidence,
        validation_errors=tuple(errors),
        recognized=template is not None or label_hits > 0,
    )


def _check_schedule(table: TableResult, total: Any, conf: dict[str, float], evidence: dict[str, str],
                    errors: list[str]) -> Any:
    """Coverage confidence from the schedule and the premium total it agrees with; returns the total."""
    row_quality = min(r.quality for r in table.rows)
    conf["coverages"] = scale(EVIDENCE_BASE["table"], row_quality)
    evidence["coverages"] = f"table:{table.source}@p{','.join(str(p) for p in sorted(table.pages))}"
    if table.total is not None:
        if total is None or total == table.total:
            conf["total_premium"] = max(conf.get("total_premium", 0.0),
                                        scale(EVIDENCE_BASE["table"], table.total_quality))
            total = table.total
        else:
            conf["total_premium"] = scale(conf.get("total_premium", 0.0), CONFLICT_FACTOR)
    charges = sum(table.charges, Decimal("0"))
    agrees = premiums_agree(total, table.premiums)
    if agrees is True:
        # Independent evidence: the printed total is the sum of the printed premiums.
        conf["total_premium"] = max(conf.get("total_premium", 0.0), 0.99)
        conf["coverages"] = max(conf["coverages"], 0.97)
    elif agrees is False and table.charges and premiums_agree(total - charges, table.premiums):
        # The "total" includes the fees and taxes: the rows are read right, but that total is no premium.
        conf["total_premium"] = scale(conf.get("total_premium", 0.0), 0.7)
        conf["coverages"] = max(conf["coverages"], 0.97)
        errors.append("total_premium: the total includes fees and taxes")
    elif agrees is False:
        conf["total_premium"] = scale(conf.get("total_premium", 0.0), 0.7)
        conf["coverages"] = scale(conf["coverages"], 0.7)
        errors.append("total_premium: coverage premiums do not add up to the total")
    if _due_agrees(table):
        # Premiums plus the fee and tax rows make the amount due: the rows are right, and their
        # premiums add up to the policy premium the amount due was built from.
        conf["coverages"] = max(conf["coverages"], 0.97)
        if total is None:
            total = sum((p for p in table.premiums if p is not None), Decimal("0"))
            conf["total_premium"] = 0.9
            evidence["total_premium"] = "table:amount due less fees and taxes"
    # Doubts no sum can lift: premiums that add up say nothing about which of two limits is the limit.
    if any(r.split_limit == "unnamed" for r in table.rows):
        conf["coverages"] = scale(conf["coverages"], UNNAMED_SPLIT_LIMIT)
        evidence["coverages"] += "; split limit, occurrence / aggregate not stated"
    if any(r.repaired for r in table.rows):
        conf["coverages"] = scale(conf["coverages"], REPAIRED_COVERAGE)
        evidence["coverages"] += "; OCR punctuation removed"
    if any(r.unread for r in table.rows):
        conf["coverages"] = scale(conf["coverages"], UNREAD_AMOUNT)
        evidence["coverages"] += "; an amount that reads as none"
    return total


def _check_term(eff: Candidate | None, exp: Candidate | None, conf: dict[str, float], errors: list[str]) -> None:
    effective = eff.value if eff else None
    expiration = exp.value if exp else None
    ambiguous = any(c is not None and c.ambiguous for c in (eff, exp))
    # Two dates read independently that form a usual policy term corroborate each other: a misread that
    # still lands on the same day and month a whole term away is very unlikely. Not so two dates of
    # one hit ("Policy Period: ..."), which share any misreading of the line, nor a swapped day and
    # month: both readings of "03/01/2026 - 03/01/2027" are regular terms.
    independent = eff is not None and exp is not None and eff.evidence != exp.evidence
    if term_is_regular(_as_date(effective), _as_date(expiration)) and independent and not ambiguous:
        for name in ("effective_date", "expiration_date"):
            conf[name] = max(conf[name], 0.92) if conf[name] >= 0.75 else conf[name]
    term_error = check_term(effective, expiration)
    if term_error:
        errors.append(term_error)
        conf["effective_date"] = scale(conf["effective_date"], 0.3)
        conf["expiration_date"] = scale(conf["expiration_date"], 0.3)


def _value(candidate: Candidate | None) -> Any:
    return candidate.value if candidate else None


def _as_date(value: Any) -> date | None:
    return value if isinstance(value, date) else None


__all__ = ["MappingConfig", "map_document", "parse_date"]
