"""Names of insureds and carriers: what can be one, where a name printed over several lines ends, and
which part of "X LLC DBA Y" is the legal name.

Strict like every parser here: a placeholder ("See Named Insured Schedule"), an address line or a
rubber stamp ("COPY") is no name, and a name whose end the layout leaves open says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from policy_ray.core.values import find_dates

_NAME_STOPWORDS = re.compile(
    r"(?i)^(policy|number|no\.?|insured|named|date|effective|expiration|period|from|to|premium|total|"
    r"address|coverage|limit|deductible|see|n/a|none)$"
)
# Text that stands where a name should be but refers elsewhere or defers it.
_PLACEHOLDER = re.compile(
    r"(?i)^(?:see|refer(?:\s+to)?|per|as\s+per|as\s+(?:shown|stated|listed|scheduled|above|below)|same\s+as|"
    r"shown\s+(?:in|on|above|below)|listed\s+(?:in|on)|attached|on\s+file|to\s+be\s+(?:determined|advised)|"
    r"tbd|tba|various|unknown|n/?a|none|not\s+applicable|any\s+and\s+all|all\s+named\s+insureds?)\b"
)
# Single words stamped across a page ("INSURED COPY" gives "COPY" after the label "Insured").
_STAMP_WORDS = frozenset({
    "COPY", "ORIGINAL", "DUPLICATE", "VOID", "SPECIMEN", "SAMPLE", "DRAFT", "RENEWAL", "CANCELLED", "CANCELED",
    "CONFIDENTIAL", "REVISED", "AMENDED", "REISSUE", "REISSUED", "NEW", "QUOTE", "BINDER", "ENDORSEMENT", "PAID",
    "RECEIVED", "FILE", "NOTICE", "INVOICE", "STATEMENT",
})
_DBA = re.compile(
    r"(?i)(?:^|(?<=[\s,;(]))(?:d\s*/\s*b\s*/\s*a|d\.b\.a\.?|dba|t\s*/\s*a|aka|a\.k\.a\.?|trading\s+as|"
    r"doing\s+business\s+as|also\s+known\s+as)(?![A-Za-z])[:.]?\s*"
)
_STREET_WORDS = (
    "street|st|avenue|ave|av|road|rd|lane|ln|drive|dr|boulevard|blvd|parkway|pkwy|court|ct|place|pl|way|"
    "highway|hwy|route|rte|circle|cir|terrace|ter|trail|trl|square|sq|plaza|plz|pike|turnpike|tpke|"
    "expressway|crescent|cres|close|suite|ste|floor|fl|unit|box|center|ctr|centre|row|alley|walk"
)
_ADDRESS = (
    re.compile(rf"(?i)^#?\d+[A-Za-z]?(?:-\d+)?\s+(?:[\w.'-]+\s+){{0,5}}(?:{_STREET_WORDS})\b\.?"),
    re.compile(r"(?i)^(?:p\.?\s?o\.?\s*box|post\s+office\s+box|box\s+\d|c/o\b|attn\b|attention\b|"
               r"(?:suite|ste\.?|unit|floor|apt\.?|room|bldg\.?)\s+#?\w+)"),
    re.compile(r",?\s*[A-Z]{2}\.?\s+\d{5}(?:-\d{4})?\s*$"),  # "Springfield, IL 62701"
    re.compile(r"\b[A-Z]\d[A-Z]\s?\d[A-Z]\d\s*$"),  # Canadian postcode
    re.compile(r"\b(?:NSW|VIC|QLD|TAS|ACT|SA|WA|NT)\s+\d{4}\s*$"),  # Australian state and postcode
    re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}\s*$"),  # UK postcode
)
# Words that end a legal entity's name: a line ending in one is a complete name.
_ENTITY_END = re.compile(
    r"(?i)(?:\b(?:inc|incorporated|llc|l\.l\.c|ltd|limited|corp|corporation|co|company|llp|lp|l\.p|plc|pc|p\.c|"
    r"pllc|pa|p\.a|gmbh|pty|trust|foundation|association|partnership|cooperative|society|district|authority)\.?)"
    r"\s*\)?$"
)
_CONNECTOR_END = re.compile(r"(?i)(?:\b(?:of|the|and|for|de|du|la|at|in|on)|[&,/+-])\s*$")
_CONTINUATION_START = re.compile(r"^(?:[a-z]|(?:and|of|&|the)\b|[&,(-])")


def clean_name(text: str) -> str | None:
    """An insured or carrier name: letters required; labels, placeholders, addresses, stamps and a
    "doing business as" name refused. "X LLC DBA Y" gives "X LLC" (the legal name)."""
    candidate = re.sub(r"\s+", " ", text.strip(" :;,-")).strip()
    legal, _ = split_dba(candidate)
    candidate = legal.strip(" :;,-")
    if len(candidate) < 2 or not re.search(r"[A-Za-z]{2}", candidate):
        return None
    words = candidate.split(" ")
    if all(_NAME_STOPWORDS.match(w) for w in words):
        return None
    if _PLACEHOLDER.match(candidate) or looks_like_address(candidate):
        return None
    if len(words) == 1 and candidate.isupper() and candidate.strip(".!") in _STAMP_WORDS:
        return None
    if find_dates(candidate, day_first=None):
        return None
    return candidate


def split_dba(text: str) -> tuple[str, str | None]:
    """("X LLC", "Y") for "X LLC DBA Y"; ("", "Y") when the text starts with the trade name."""
    m = _DBA.search(text)
    if m is None:
        return text, None
    return text[: m.start()].strip(" ,;-("), text[m.end():].strip(" )") or None


def is_dba_line(text: str) -> bool:
    m = _DBA.search(text.strip())
    return m is not None and m.start() == 0


def looks_like_address(text: str) -> bool:
    """A street line, PO box, suite or "City, ST 12345" line: where a name block ends."""
    s = text.strip()
    return any(p.search(s) for p in _ADDRESS)


@dataclass(frozen=True)
class NameBlock:
    name: str | None
    decided: bool  # False: the lines do not show where the name ends (or which line is the legal name)


def name_from_lines(lines: Sequence[str]) -> NameBlock:
    """A name printed over one or more lines, as far as the lines show it.

    Line 1 is the name; a following line continues it when line 1 ends with a connector ("... of the",
    "&") or the line begins in lower case, or when it completes an entity ("Hospital Foundation, Inc.")
    that line 1 left open. An address line, a "DBA" line or the end of the block ends the name. Any
    other line leaves the end undecided (a second named insured? the rest of the name?).
    """
    texts = [re.sub(r"\s+", " ", t).strip() for t in lines if t and t.strip()]
    if not texts:
        return NameBlock(None, True)
    first, dba = split_dba(texts[0])
    if not first.strip(" ,;-"):
        # "DBA Joe's Pizza" first: the legal name may be the next line, but nothing says so.
        rest = [t for t in texts[1:] if not is_dba_line(t)]
        nxt = rest[0] if rest and not looks_like_address(rest[0]) else None
        return NameBlock(clean_name(nxt) if nxt else None, False)
    parts = [first]
    decided = True
    if dba is None:
        for text in texts[1:]:
            if looks_like_address(text) or is_dba_line(text):
                break
            head, trailing_dba = split_dba(text)
            if _continues(parts[-1], head):
                parts.append(head)
                if trailing_dba is not None:
                    break
                continue
            decided = _ENTITY_END.search(parts[-1]) is not None
            break
    return NameBlock(clean_name(" ".join(parts)), decided)


def _continues(previous: str, text: str) -> bool:
    if _CONNECTOR_END.search(previous) or _CONTINUATION_START.match(text):
        return True
    # A wrapped line completes the entity the first line left open; a wrapped first line is the full
    # width, so not shorter than its rest ("Avery Corwin" over "Corwin Family Trust LLC" is two names).
    return (_ENTITY_END.search(previous) is None and _ENTITY_END.search(text) is not None
            and len(previous) >= len(text))
