"""The carrier named outside the page heading: in a footer or a running header ("Lakeshore Mutual
Insurance Company - Home Office"), or in a statement ("This policy is underwritten by ...").

Many declarations put a logo, a title or the agency at the top and name the insurer only at the foot of
the page. Such a name is read only where it reads as an insurer's name and nothing else: capitalized
words ending in an insurer's or an entity's word ("Insurance", "Company", "Co.", "Ltd"), with one of
the insurer keywords, no agency or title word, not the insured. Like a heading, it is trusted only when
the document says it again (another page's header or footer, another line, a NAIC number beside it).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from policy_ray.core.confidence import EVIDENCE_BASE, UNCORROBORATED_HEADING, recognition, scale
from policy_ray.core.heading import HeadingRules, name_key, party_lines, said_elsewhere
from policy_ray.core.layout import Line
from policy_ray.core.margins import band_lines
from policy_ray.core.names import clean_name, looks_like_address

# Words an insurer's legal name ends with. Outside the heading, a name must end with one: "Limit of
# Insurance" at the foot of a page of wording is a phrase, "Lakeshore Mutual Insurance Company" a name.
_ENTITY_ENDINGS = frozenset({"inc", "incorporated", "corporation", "corp", "limited", "ltd", "plc", "exchange",
                             "company", "co", "se", "ag", "sa", "nv", "underwriters", "lloyd's", "lloyds"})
_SEPARATORS = re.compile(r"\s+[-–—|•·]\s+")
_PARTICLES = frozenset({"of", "the", "and", "&", "de", "du", "la", "del", "des", "y", "for"})


@dataclass(frozen=True)
class TextCarrier:
    name: str
    confidence: float
    corroborated: bool
    evidence: str  # "footer:p1", "header:p3", "statement:p1"


def _bare(word: str) -> str:
    return word.strip(",;:.()").casefold()


def _capitalized(word: str) -> bool:
    return word[:1].isupper() or word[:1] in "&" or word.casefold() in _PARTICLES


def _style(word: str) -> str:
    letters = [c for c in word if c.isalpha()]
    return "caps" if letters and all(c.isupper() for c in letters) and len(letters) > 1 else "title"


def _ends_here(words: Sequence[str], j: int) -> bool:
    """Whether a name may end at word j: the text ends, punctuation or a lower-case word follows, or the
    next word is printed in another style ("Insurance Co. SPECIALTY PACKAGE FORM")."""
    if j == len(words) - 1 or words[j][-1:] in ",;:)":
        return True
    nxt = words[j + 1]
    after = next((w for w in words[j + 1:] if w.casefold() not in _PARTICLES), "")
    if nxt.casefold() in _PARTICLES and after[:1].isupper():
        return False  # "Insurance Company of the West": the name goes on
    return (not nxt[:1].isupper() or any(c.isdigit() for c in nxt) or _style(nxt) != _style(words[j])
            or (words[j].endswith(".") and _bare(words[j]) not in ("co", "ins", "inc")))


def insurer_names(text: str, rules: HeadingRules) -> list[str]:
    """The insurer's names `text` starts with, or one of its parts does ("... - Home Office | ..."): a name
    inside a sentence is no footer's ("... under the applicable Limit of Insurance"). One per part: the
    whole of "Acme Insurance Company, Inc.", not also "Acme Insurance Company"."""
    found: list[str] = []
    for part in _SEPARATORS.split(text.strip()):
        words = part.split()
        if not words or not words[0][:1].isupper():
            continue
        longest: str | None = None
        for j, word in enumerate(words):
            span = words[:j + 1]
            if not _capitalized(word) or any(c.isdigit() for c in word):
                break  # the capitalized run that starts the part has ended
            if _bare(word) not in _ENTITY_ENDINGS or not _ends_here(words, j):
                continue
            name = clean_name(" ".join(span).strip(",;:"))
            if name and _reads_as_insurer(name, rules):
                longest = name
        if longest is not None:
            found.append(longest)
    return found


def _reads_as_insurer(name: str, rules: HeadingRules) -> bool:
    folded = name.casefold()
    words = {_bare(w) for w in name.split()}
    keywords = {_bare(k) for k in rules.carrier_keywords}
    keyword = any(_bare(k) in words or (" " in k and k in folded) for k in rules.carrier_keywords)
    excluded = {_bare(w) for w in (*rules.exclude, *rules.title_words)}
    # A name of its own: "the Company", "Insurance Company" or "A Stock Company" (a letterhead phrase)
    # name nobody.
    own = words - keywords - _ENTITY_ENDINGS - _PARTICLES - {"a", "an"}
    letterhead = name_key(name) in {name_key(p) for p in rules.letterhead}
    return keyword and bool(own) and not letterhead and not (words & excluded) and not looks_like_address(name)


def _statement_names(text: str, phrases: Sequence[str], rules: HeadingRules) -> list[str]:
    """Names after "underwritten by", "issued by" inside a line ("This policy is underwritten by X")."""
    found: list[str] = []
    for phrase in phrases:
        body = r"\s+".join(re.escape(w) for w in phrase.split())
        for m in re.finditer(rf"(?i)(?<![A-Za-z]){body}\s*:?\s+", text):
            found += insurer_names(text[m.end():], rules)[:1]
    return found


def carriers_from_text(lines: Sequence[Line], heights: Mapping[int, float], rules: HeadingRules, *,
                       labels: Sequence[str], carrier_labels: Collection[str],
                       not_names: Collection[str] = ()) -> list[TextCarrier]:
    """Insurers named by the headers and footers of every page (not page 1's header: that is the
    heading's) and by statements on page 1 or in a header or footer, one per name."""
    owned = party_lines(lines, labels, carrier_labels)
    phrases = [lab for lab in carrier_labels if lab.casefold().endswith(" by")]
    places: list[tuple[int, str, list[str]]] = []
    bands = band_lines(lines, heights)
    for edge, i in bands:
        if i in owned or (lines[i].page == 1 and edge == "top"):
            continue
        names = [n for seg in lines[i].segments for n in insurer_names(seg.text, rules)]
        places.append((i, f"{'header' if edge == 'top' else 'footer'}:p{lines[i].page}", names))
    in_band = {i for _, i in bands}
    for i, line in enumerate(lines):
        if i not in owned and (line.page == 1 or i in in_band):
            places.append((i, f"statement:p{line.page}", _statement_names(line.text, phrases, rules)))
    found: dict[str, TextCarrier] = {}
    for i, evidence, names in places:
        for name in names:
            if name_key(name) in not_names or name_key(name) in found:
                continue
            line = lines[i]
            corroborated = (said_elsewhere(lines, name, {i}, labels, carrier_labels)
                            or any(f" {name_key(p)} " in f" {name_key(line.text)} " for p in rules.letterhead))
            confidence = scale(EVIDENCE_BASE["running_text"], recognition(min(w.conf for w in line.words)),
                               1.0 if corroborated else UNCORROBORATED_HEADING)
            found[name_key(name)] = TextCarrier(name, confidence, corroborated, evidence)
    return list(found.values())

