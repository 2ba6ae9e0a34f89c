"""Certificates of insurance (ACORD 25 and look-alikes): several policies on one page.

Two readings of the same form: the fillable form's named fields when the producer left them live, and
the printed layout when the certificate was flattened. The record's top-level policy fields are those
of the first policy listed; every limit line becomes a coverage tagged with the policy it belongs to.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from policy_ray.core.confidence import EVIDENCE_BASE, UNDECIDED_NAME_END, check_term, scale
from policy_ray.core.labels import find_label_values
from policy_ray.core.layout import Line
from policy_ray.core.models import CERTIFICATE_REQUIRED_FIELDS, Coverage, MappedDocument, PolicyRecord
from policy_ray.core.names import clean_name, name_from_lines
from policy_ray.core.templates import Template
from policy_ray.core.values import clean_policy_number, find_dates, parse_date, parse_money


@dataclass(frozen=True)
class PolicyLine:
    line: str
    policy_number: str
    effective: date | None
    expiration: date | None
    carrier: str | None
    quality: float
    limits: tuple[tuple[str, Any], ...]


def short_field_name(name: str) -> str:
    """'F[0].P1[0].NamedInsured_FullName_A[0]' -> 'NamedInsured_FullName_A'."""
    return re.sub(r"\[\d+\]$", "", name.split(".")[-1])


def map_form(form: Mapping[str, str], template: Template, *, certificate_text: str = "") -> MappedDocument:
    values = {short_field_name(k): (v or "").strip() for k, v in form.items()}
    base = EVIDENCE_BASE["form_field"]
    insurer_field = str(template.options.get("insurer_name_field", "Insurer_FullName_{letter}"))
    policies: list[PolicyLine] = []
    for spec in template.options.get("policies", []):
        number = clean_policy_number(values.get(spec["number"], ""))
        if not number:
            continue
        eff = parse_date(values.get(spec["effective"], ""))
        exp = parse_date(values.get(spec["expiration"], ""))
        letter = values.get(spec["letter"], "").strip().upper()[:1]
        carrier = clean_name(values.get(insurer_field.format(letter=letter), "")) if letter else None
        quality = min(eff.quality if eff else 0.0, exp.quality if exp else 0.0, 1.0 if carrier else 0.0)
        limits: list[tuple[str, Any]] = []
        for name, field_name in spec.get("limits", []):
            money = parse_money(values.get(field_name, ""))
            if money is not None:
                limits.append((name, money.amount))
        policies.append(PolicyLine(spec["line"], number, eff.value if eff else None, exp.value if exp else None,
                                   carrier, quality, tuple(limits)))
    insured: str | None = None
    insured_conf = 0.0
    if "insured_name" in template.fields:
        # The box holds the name, often a "DBA" line and the mailing address: the legal name only.
        block = name_from_lines(values.get(template.fields["insured_name"].form_fields[0], "").splitlines())
        insured = block.name
        insured_conf = scale(base, 1.0 if block.decided else UNDECIDED_NAME_END) if insured else 0.0
    return _assemble(policies, insured, insured_conf, template, base, "form_field")


def map_text(pages: Sequence[Sequence[Line]], template: Template) -> MappedDocument:
    """A flattened certificate: insurers by letter, then one section of the table per line of business."""
    lines = list(pages[0]) if pages else []
    insurers = _insurers(lines)
    stop = ("INSURER", "PRODUCER", "CONTACT", "INSURER(S) AFFORDING COVERAGE", "PHONE", "E-MAIL")
    insured_hits = find_label_values(lines, template.fields["insured_name"].labels, stop_labels=stop,
                                     accept=lambda v: clean_name(v) is not None, name_block=True)
    hit = insured_hits[0] if insured_hits else None
    insured = clean_name(hit.value) if hit else None
    captions: Mapping[str, Sequence[str]] = template.options.get("line_keywords", {})
    limit_names: Mapping[str, str] = template.options.get("limit_labels", {})
    number_x0 = _number_column_x0(lines)
    policies: list[PolicyLine] = []
    for kind, section in _sections(lines, captions):
        row = next((parsed for line in section if (parsed := _policy_row(line, number_x0))), None)
        if row is None:
            continue
        letter, number, eff, exp = row
        carrier = insurers.get(letter) if letter else (next(iter(insurers.values())) if len(insurers) == 1 else None)
        limits = tuple((f"{kind} - {name}", amount) for name, amount in _section_limits(section, limit_names))
        policies.append(PolicyLine(kind, number, eff, exp, carrier, 1.0 if carrier else 0.0, limits))
    base = EVIDENCE_BASE["template_label"]
    insured_conf = scale(base, hit.quality) if insured and hit else 0.0
    return _assemble(policies, insured, insured_conf, template, base, "certificate_layout")


def _sections(lines: Sequence[Line], captions: Mapping[str, Sequence[str]]) -> list[tuple[str, list[Line]]]:
    """Lines grouped under the line-of-business caption they sit beside, in the form's order."""
    starts: list[tuple[float, str]] = []
    for kind, words in captions.items():
        found = next((ln for ln in lines if any(w.casefold() in ln.text.casefold() for w in words)), None)
        if found is not None:
            # A section's first limit row can sit a little above its caption.
            starts.append((found.top - 1.5 * found.height, kind))
    starts.sort()
    sections: list[tuple[str, list[Line]]] = []
    for i, (top, kind) in enumerate(starts):
        bottom = starts[i + 1][0] if i + 1 < len(starts) else float("inf")
        sections.append((kind, [ln for ln in lines if top <= ln.top < bottom]))
    return sections


_AMOUNT = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d{2})?|\d{4,}(?:\.\d{2})?")


def _squeeze(words: Sequence[Any]) -> tuple[str, list[int]]:
    """Line text without spaces (forms letter-space captions: 'C O M B IN E D'), and, per character,
    the index of the word it came from."""
    chars: list[str] = []
    owner: list[int] = []
    for i, w in enumerate(words):
        for ch in w.text:
            if not ch.isspace():
                chars.append(ch.casefold())
                owner.append(i)
    return "".join(chars), owner


def _section_limits(section: Sequence[Line], names: Mapping[str, str]) -> list[tuple[str, Any]]:
    """Limit captions and the amounts beside them (or, when the cell wraps, on the next line)."""
    captions = sorted(((re.sub(r"\s+", "", c).casefold(), n) for c, n in names.items()), key=lambda c: -len(c[0]))
    found: list[tuple[str, Any]] = []
    for index, line in enumerate(section):
        words = list(line.words)
        squeezed, owner = _squeeze(words)
        hits: list[tuple[int, int, str]] = []  # (first word, last word, coverage name)
        for caption, name in captions:
            for m in re.finditer(re.escape(caption), squeezed):
                first, last = owner[m.start()], owner[m.end() - 1]
                if not any(f <= last and first <= l2 for f, l2, _ in hits):
                    hits.append((first, last, name))
        hits.sort()
        for n, (_first, last, name) in enumerate(hits):
            stop = hits[n + 1][0] if n + 1 < len(hits) else len(words)
            amount = _first_amount(words[last + 1:stop])
            if amount is None and index + 1 < len(section) and n + 1 == len(hits):
                amount = _wrapped_amount(section[index + 1], names, words[last].x0)
            if amount is not None and all(existing != name for existing, _ in found):
                found.append((name, amount))
    return found


def _first_amount(words: Sequence[Any]) -> Any:
    for w in words:
        if _AMOUNT.fullmatch(w.text.lstrip("$")):
            money = parse_money(w.text)
            if money is not None:
                return money.amount
    return None


def _wrapped_amount(next_line: Line, names: Mapping[str, str], caption_x0: float) -> Any:
    """The amount on the line under a caption whose cell wrapped, unless that line has its own caption."""
    squeezed, _ = _squeeze(next_line.words)
    if any(re.sub(r"\s+", "", c).casefold() in squeezed for c in names):
        return None
    return _first_amount([w for w in next_line.words if w.x0 >= caption_x0])


_ROW_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9\-/.]{4,29}$")


def _number_column_x0(lines: Sequence[Line]) -> float:
    """Where the POLICY NUMBER column starts: right of every header caption printed left of its own
    (TYPE OF INSURANCE, and the narrow ADDL INSD / SUBR WVD columns whose Y/N marks sit right beside
    the number). Unbounded when the caption is not found."""
    for line in lines:
        words = line.words
        for a, b in itertools.pairwise(words):
            if a.text.upper() == "POLICY" and b.text.upper() in ("NUMBER", "NO.", "NO", "#"):
                # Header captions stack on two lines ("ADDL" over "INSD"): look a little above and below.
                band = [w for ln in lines if ln.page == line.page and abs(ln.top - line.top) <= 8.0
                        for w in ln.words if w.x1 <= a.x0 + 0.5]
                return max((w.x1 for w in band), default=float("-inf")) - 1.0
    return float("-inf")


RowFields = tuple[str | None, str, date | None, date | None]  # insurer letter, number, effective, expiration


def _policy_row(line: Line, number_x0: float = float("-inf")) -> RowFields | None:
    """A table row that carries a policy number followed by its effective and expiration dates."""
    dates = find_dates(line.text)
    if len(dates) < 2:
        return None
    first_date_x = next((w.x0 for w in line.words if find_dates(w.text)), None)
    if first_date_x is None:
        return None
    before = [w for w in line.words if w.x1 <= first_date_x]
    number = _number_before([w for w in before if w.x0 >= number_x0])
    if number is None:
        return None
    letter = before[0].text.strip().upper() if before and re.fullmatch(r"[A-F]", before[0].text.strip()) else None
    return letter, number, dates[0].value, dates[1].value


def _number_before(words: Sequence[Any]) -> str | None:
    """The policy number: the segment just left of the dates (it may hold a space, e.g. 'WC 12-3456').
    A lone Y, N or X is a check mark of a neighbouring column, never part of the number."""
    for size in (3, 2, 1):
        if len(words) < size:
            continue
        tail = words[-size:]
        if any(b.x0 - a.x1 > 2.0 * max(a.bottom - a.top, 1.0) for a, b in itertools.pairwise(tail)):
            continue
        if any(w.text.strip().upper() in ("Y", "N", "X") for w in tail):
            continue
        candidate = " ".join(w.text for w in tail)
        number = clean_policy_number(candidate)
        if number and all(_ROW_NUMBER.match(w.text.upper()) or len(w.text) <= 4 for w in tail):
            return number
    return None


def _insurers(lines: Sequence[Line]) -> dict[str, str]:
    """'INSURER A : Name' cells (the NAIC code sits in the next cell) -> {letter: name}."""
    found: dict[str, str] = {}
    for line in lines:
        for i, segment in enumerate(line.segments):
            m = re.match(r"(?i)^\s*INSURER\s+([A-F])\s*:\s*(.*)$", segment.text)
            if not m:
                continue
            name = m.group(2).strip()
            if not name and i + 1 < len(line.segments):
                name = line.segments[i + 1].text
            cleaned = clean_name(re.sub(r"\s+\d{5}\s*$", "", name))
            if cleaned and not re.fullmatch(r"(?i)INSURER\s+[A-F]\s*:?", cleaned):
                found[m.group(1).upper()] = cleaned
    return found


def _assemble(policies: Sequence[PolicyLine], insured: str | None, insured_conf: float, template: Template,
              base: float, evidence: str) -> MappedDocument:
    first = policies[0] if policies else None
    conf: dict[str, float] = {
        "insured_name": insured_conf,
        "policy_number": base if first else 0.0,
        "carrier_name": scale(base, 1.0 if first and first.carrier else 0.0),
        "effective_date": scale(base, first.quality if first and first.effective else 0.0),
        "expiration_date": scale(base, first.quality if first and first.expiration else 0.0),
        "total_premium": base,  # certificates state no premium: "none" is what the form supports
        "currency": 0.97,
        # Every policy a certificate lists shows at least one limit: one without any was misread.
        "coverages": scale(base, min(p.quality for p in policies)) if policies and all(p.limits for p in policies)
        else 0.0,
    }
    errors = [e for p in policies if (e := check_term(p.effective, p.expiration))]
    if first and check_term(first.effective, first.expiration):
        conf["effective_date"] = scale(conf["effective_date"], 0.3)
        conf["expiration_date"] = scale(conf["expiration_date"], 0.3)
    coverages = tuple(
        Coverage(name=name, limit=amount, policy_number=p.policy_number, carrier_name=p.carrier,
                 effective_date=p.effective, expiration_date=p.expiration)
        for p in policies
        for name, amount in p.limits
    )
    record = PolicyRecord(
        document_type=template.document_type,
        template_id=template.id,
        template_version=template.version,
        carrier_name=first.carrier if first else None,
        policy_number=first.policy_number if first else None,
        insured_name=insured,
        effective_date=first.effective if first else None,
        expiration_date=first.expiration if first else None,
        total_premium=None,
        currency=template.currency,
        coverages=coverages,
    )
    return MappedDocument(record=record, field_confidence=conf,
                          evidence={"policy_number": f"{evidence}:{template.id}"},
                          validation_errors=tuple(errors), recognized=True, required=CERTIFICATE_REQUIRED_FIELDS)
