"""Field and document confidence from evidence.

A field's confidence starts from how it was found (a template's own label beats a generic label, a
form field beats both), is scaled by how cleanly its value parsed and by the recognition confidence of
the words it came from, and is then raised or lowered by cross-field checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

# Base confidence of a value by the evidence that produced it.
EVIDENCE_BASE: dict[str, float] = {
    "form_field": 0.98,  # a named AcroForm field: the producer typed it into that box
    "template_label": 0.97,  # the carrier template's own label, value in the expected place
    "generic_label": 0.9,  # a generic label ("Policy No.") with the value beside it
    "generic_label_below": 0.87,  # value under its label (boxed layouts)
    "template_constant": 0.97,  # the template states it (carrier name of a recognized template)
    "heading": 0.87,  # carrier name: the largest heading on page 1, naming an insurer (not an agency)
    "running_text": 0.87,  # carrier name in a footer, a running header or "underwritten by ..." (core/carrier_text.py)
    "table": 0.9,  # a coverage row whose columns were found from a header
}

CONFLICT_FACTOR = 0.6  # two different plausible values for one field
# A name whose last line the layout leaves open (a second line that may or may not continue it, a
# "DBA" line before the legal name): kept below the accept threshold, for a person to read.
UNDECIDED_NAME_END = 0.85
# A carrier name from the page heading (or a footer) that the document does not repeat anywhere (no
# footer, no "Issued by", no NAIC number under it): an agency's letterhead looks the same. Below accept.
UNCORROBORATED_HEADING = 0.9
# A limit cell with two amounts ("$1,000,000 / $2,000,000") whose header, row or cell does not say they
# are each occurrence / aggregate: the limit is the first by convention, and the coverages are scaled
# by this after every check that raises them (their premiums adding up proves nothing about limits).
UNNAMED_SPLIT_LIMIT = 0.85
# A coverage row that needed stray OCR punctuation removed from its name ("Business. Personal Property")
# or an amount ("USD 2,500."): the repair is a guess at what was printed, so the coverages are scaled,
# after the checks that raise them.
REPAIRED_COVERAGE = 0.85
# A coverage row with an amount in a limit, deductible or premium column that reads as none ("2,5O0",
# "S2,500"): the row lacks a value the page shows. Scaled under field_keep: the coverages are not stored.
UNREAD_AMOUNT = 0.7
# A different value for a field with at least this confidence contradicts the winner (unless the
# winner's evidence is stronger in kind: a form field or the template's own label).
RIVAL_CONFIDENCE = 0.7
MAX_TERM_DAYS = 5 * 366
MIN_TERM_DAYS = 1


@dataclass(frozen=True)
class Scored:
    value: object
    confidence: float
    evidence: str


def recognition(conf: float) -> float:
    """How much the words' recognition confidence lowers a field's confidence.

    Text layers are 1.0. Tesseract's word confidence is its lowest character's, so correct words
    often score 0.5-0.9: the factor is damped (0.75 + 0.25 * conf) rather than taken at face value,
    and the field checks (parsing, template shapes, cross-field agreement) carry the rest.
    """
    return 0.75 + 0.25 * max(0.0, min(1.0, conf))


def term_is_regular(effective: date | None, expiration: date | None) -> bool:
    """Expiration on the effective date's day, a whole 3, 6, 12, 24 or 36 months later: the usual terms."""
    if effective is None or expiration is None or effective.day != expiration.day:
        return False
    months = (expiration.year - effective.year) * 12 + expiration.month - effective.month
    return months in (3, 6, 12, 24, 36)


_PARTICLES = frozenset({"and", "of", "the", "de", "du", "la", "van", "von", "der", "da", "di", "y", "e", "&"})


def name_casing(name: str) -> float:
    """A capitalized name with one word in lower case ("lronbark Florist") is a classic OCR misread
    of I as l: a factor that keeps such a value out of the accept band."""
    words = [w for w in name.split() if w[:1].isalpha()]
    if len(words) < 2:
        return 1.0
    capitalized = sum(w[0].isupper() for w in words)
    odd = [w for w in words if w[0].islower() and w.casefold() not in _PARTICLES]
    return 0.8 if odd and capitalized >= len(words) - len(odd) and capitalized > 0 else 1.0


def scale(base: float, *factors: float) -> float:
    out = base
    for f in factors:
        out *= max(0.0, min(1.0, f))
    return round(max(0.0, min(1.0, out)), 4)


def check_term(effective: date | None, expiration: date | None) -> str | None:
    """A validation error for an impossible policy term, or None."""
    if effective is None or expiration is None:
        return None
    days = (expiration - effective).days
    if days < MIN_TERM_DAYS:
        return "expiration_date: not after effective_date"
    if days > MAX_TERM_DAYS:
        return "expiration_date: policy term longer than five years"
    return None


def premiums_agree(total: Decimal | None, premiums: list[Decimal | None]) -> bool | None:
    """Whether coverage premiums add up to the total: None when there is nothing to compare."""
    known = [p for p in premiums if p is not None]
    if total is None or not known:
        return None
    return sum(known, Decimal("0")) == total
