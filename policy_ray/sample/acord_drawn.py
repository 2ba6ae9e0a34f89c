"""A certificate of liability insurance drawn from scratch in the ACORD 25 arrangement.

Used when no blank form is supplied. The statutory-looking paragraphs are our
own wording; only the field labels follow the well-known layout.
"""

from __future__ import annotations

import io

from reportlab.pdfgen.canvas import Canvas

from policy_ray.sample import dates, draw
from policy_ray.sample.certificate import Certificate, CertPolicy, PolicyKind
from policy_ray.sample.money import grouped

L, R = 30.0, 582.0
# Column edges: LTR | TYPE | ADDL INSD | SUBR WVD | NUMBER | EFF | EXP | LIMIT LABEL | AMOUNT
COLS = (30.0, 46.0, 166.0, 182.0, 198.0, 280.0, 326.0, 372.0, 514.0, 582.0)
TYPE, ADDL, SUBR, NUMBER, EFF, EXP, LIMIT_LABEL, AMOUNT = range(1, 9)
ROW = 11.0
DISCLAIMER = (
    "THIS CERTIFICATE IS PROVIDED FOR INFORMATION ONLY AND GIVES THE CERTIFICATE HOLDER NO RIGHTS. IT DOES NOT "
    "CHANGE, EXTEND OR REPLACE THE COVERAGE OF THE POLICIES LISTED BELOW AND IS NOT A CONTRACT BETWEEN THE "
    "INSURERS, THE PRODUCER AND THE CERTIFICATE HOLDER."
)
CERTIFY = (
    "The policies listed below have been issued to the insured named above for the policy periods shown. The "
    "limits shown may have been reduced by paid claims and are subject to all terms of those policies."
)
CANCELLATION = (
    "Should any policy described above be cancelled before its expiration date, notice will be delivered "
    "as the policy provisions require."
)
STATUTE_ROW = "PER STATUTE / OTHER"  # a check-box row, not an amount
# Per section: type-of-insurance lines (text, checked-box key or None) and limit rows (key, label).
SECTIONS: tuple[tuple[PolicyKind, tuple[tuple[str, str | None], ...], tuple[tuple[str, str], ...]], ...] = (
    ("gl", (("COMMERCIAL GENERAL LIABILITY", "cgl"), ("CLAIMS-MADE", "claims"), ("OCCUR", "occur"),
            ("GEN'L AGGREGATE LIMIT APPLIES PER:", None), ("POLICY", "per_policy"), ("PROJECT", ""), ("LOC", "")),
     (("gl_each_occurrence", "EACH OCCURRENCE"), ("gl_rented_premises", "DAMAGE TO RENTED PREMISES (Ea occurrence)"),
      ("gl_medical", "MED EXP (Any one person)"), ("gl_personal_adv", "PERSONAL & ADV INJURY"),
      ("gl_aggregate", "GENERAL AGGREGATE"), ("gl_products", "PRODUCTS - COMP/OP AGG"))),
    ("auto", (("AUTOMOBILE LIABILITY", None), ("ANY AUTO", "any_auto"), ("OWNED AUTOS ONLY", ""),
              ("HIRED AUTOS ONLY", ""), ("SCHEDULED AUTOS", ""), ("NON-OWNED AUTOS ONLY", "")),
     (("auto_csl", "COMBINED SINGLE LIMIT (Ea accident)"), ("", "BODILY INJURY (Per person)"),
      ("", "BODILY INJURY (Per accident)"), ("", "PROPERTY DAMAGE (Per accident)"))),
    ("umbrella", (("UMBRELLA LIAB", "umbrella"), ("EXCESS LIAB", ""), ("OCCUR", "occur"),
                  ("CLAIMS-MADE", "claims")),
     (("umbrella_occurrence", "EACH OCCURRENCE"), ("umbrella_aggregate", "AGGREGATE"))),
    ("wc", (("WORKERS COMPENSATION", None), ("AND EMPLOYERS' LIABILITY", None),
            ("ANY PROPRIETOR/PARTNER/EXECUTIVE", None), ("OFFICER/MEMBER EXCLUDED? (Y/N)", None)),
     (("", STATUTE_ROW), ("el_each_accident", "E.L. EACH ACCIDENT"),
      ("el_disease_employee", "E.L. DISEASE - EA EMPLOYEE"), ("el_disease_policy", "E.L. DISEASE - POLICY LIMIT"))),
)


def _checkbox(c: Canvas, x: float, y: float, checked: bool) -> None:
    c.setLineWidth(0.5)
    c.rect(x, y - 1, 7, 7)
    if checked:  # a drawn cross, as flattened forms have, not an "X" glyph
        c.line(x + 1, y, x + 6, y + 5)
        c.line(x + 1, y + 5, x + 6, y)


def _checked(policy: CertPolicy | None, key: str | None) -> bool:
    if policy is None or not key:
        return False
    return {"cgl": True, "occur": policy.occurrence, "claims": not policy.occurrence, "per_policy": True,
            "any_auto": True, "umbrella": True}.get(key, False)


def _header(c: Canvas, cert: Certificate) -> float:
    draw.put_center(c, 260, 762, "CERTIFICATE OF LIABILITY INSURANCE", 15, draw.BOLD)
    c.setLineWidth(0.8)
    c.rect(480, 750, R - 480, 26)
    draw.put(c, 484, 768, "DATE (MM/DD/YYYY)", 6, draw.BOLD)
    draw.put(c, 520, 755, dates.mdy(cert.issued), 9)
    c.rect(L, 700, R - L, 46)
    draw.lines(c, L + 4, 737, draw.wrap(DISCLAIMER, R - L - 8, 7.5, draw.BOLD), 7.5, 9, draw.BOLD)
    return 700


def _parties(c: Canvas, cert: Certificate, top: float) -> float:
    producer, insured = cert.producer, cert.insured
    mid = 306.0
    c.rect(L, top - 110, R - L, 110)
    c.line(mid, top, mid, top - 110)
    c.line(L, top - 55, mid, top - 55)
    draw.put(c, L + 3, top - 8, "PRODUCER", 6, draw.BOLD)
    draw.lines(c, L + 8, top - 19, [producer.party.name, *producer.party.address.lines()], 8.5, 10)
    draw.put(c, L + 3, top - 63, "INSURED", 6, draw.BOLD)
    draw.lines(c, L + 40, top - 74, [insured.name, *insured.address.lines()], 8.5, 10)
    y = top - 9
    for label, value in (("CONTACT NAME:", producer.contact),
                         ("PHONE (A/C, No, Ext):", f"{producer.phone}    FAX (A/C, No): {producer.fax}"),
                         ("E-MAIL ADDRESS:", producer.email)):
        end = draw.put(c, mid + 3, y, label, 6, draw.BOLD)
        draw.put(c, end + 4, y, value, 8)
        y -= 10
    draw.put_center(c, (mid + 530) / 2, y - 2, "INSURER(S) AFFORDING COVERAGE", 6, draw.BOLD)
    draw.put_center(c, 556, y - 2, "NAIC #", 6, draw.BOLD)
    c.line(530, y + 6, 530, top - 110)
    by_letter = {i.letter: i for i in cert.insurers}
    for letter in "ABCDEF":
        y -= 11
        c.line(mid, y + 8, R, y + 8)
        end = draw.put(c, mid + 3, y, f"INSURER {letter} :", 6.5, draw.BOLD)
        if letter in by_letter:
            draw.put(c, end + 4, y, by_letter[letter].name, 8)
            draw.put(c, 538, y, by_letter[letter].naic, 8)
    return top - 110


def _coverage_header(c: Canvas, cert: Certificate, top: float) -> float:
    draw.put(c, L, top - 11, "COVERAGES", 10, draw.BOLD)
    draw.put(c, 170, top - 11, f"CERTIFICATE NUMBER: {cert.number}", 9, draw.BOLD)
    draw.put(c, 440, top - 11, "REVISION NUMBER:", 9, draw.BOLD)
    draw.lines(c, L + 4, top - 23, draw.wrap(CERTIFY, R - L - 8, 7), 7, 8.5)
    y = top - 44
    c.rect(L, y - 18, R - L, 18)
    heads = (("INSR", "LTR"), ("TYPE OF INSURANCE", ""), ("ADDL", "INSD"), ("SUBR", "WVD"), ("POLICY NUMBER", ""),
             ("POLICY EFF", "(MM/DD/YYYY)"), ("POLICY EXP", "(MM/DD/YYYY)"), ("LIMITS", ""))
    for i, (one, two) in enumerate(heads):
        centre = (COLS[i] + (COLS[i + 1] if i < LIMIT_LABEL else R)) / 2
        size = 5.0 if i in (ADDL, SUBR) else 6.0  # the narrow check-mark columns
        draw.put_center(c, centre, y - 8 if two else y - 12, one, size, draw.BOLD)
        if two:
            draw.put_center(c, centre, y - 15, two, min(size, 5.5), draw.BOLD)
    return y - 18


def _section(c: Canvas, top: float, spec: tuple[PolicyKind, tuple[tuple[str, str | None], ...],
             tuple[tuple[str, str], ...]], policy: CertPolicy | None, marks: tuple[str, str] = ("", "")) -> float:
    kind, type_lines, limit_rows = spec
    height = ROW * max(len(type_lines), len(limit_rows)) + 4
    bottom = top - height
    c.setLineWidth(0.6)
    c.rect(L, bottom, R - L, height)
    for x in COLS[1:-1]:
        c.line(x, top, x, bottom)
    y = top - 9
    for text, key in type_lines:
        x = COLS[TYPE] + 3
        if key is not None:
            _checkbox(c, x, y, _checked(policy, key))
            x += 10
        draw.put(c, x, y, text, 6)
        y -= ROW
    amounts = {line.key: line.amount for line in policy.limits} if policy else {}
    y = top - 9
    for key, label in limit_rows:
        draw.put(c, COLS[LIMIT_LABEL] + 2, y, label, 6)
        if label == STATUTE_ROW:
            _checkbox(c, COLS[AMOUNT] + 3, y, policy is not None)
        else:
            draw.put(c, COLS[AMOUNT] + 3, y, "$", 8)
        if key in amounts:
            draw.put(c, COLS[AMOUNT] + 12, y, grouped(amounts[key], decimals=False), 8.5)
        c.line(COLS[LIMIT_LABEL], y - 3, R, y - 3)
        y -= ROW
    if policy is not None:
        middle = (top + bottom) / 2 - 3
        draw.put_center(c, (COLS[0] + COLS[TYPE]) / 2, middle, policy.insurer_letter, 9)
        # ADDL INSD / SUBR WVD marks sit right beside the policy number, on its line.
        for column, mark in zip((ADDL, SUBR), marks, strict=True):
            if mark:
                draw.put_center(c, (COLS[column] + COLS[column + 1]) / 2, middle, mark, 8.5)
        draw.put(c, COLS[NUMBER] + 2, middle, policy.number, 8.5)
        draw.put_center(c, (COLS[EFF] + COLS[EXP]) / 2, middle, dates.mdy(policy.effective), 8)
        draw.put_center(c, (COLS[EXP] + COLS[LIMIT_LABEL]) / 2, middle, dates.mdy(policy.expiration), 8)
        if kind == "wc":
            draw.put(c, COLS[ADDL] - 7, top - 42, "N", 8.5)  # officer/member excluded? (Y/N)
    return bottom


def _footer_blocks(c: Canvas, cert: Certificate, top: float) -> None:
    c.rect(L, top - 60, R - L, 60)
    draw.put(c, L + 3, top - 8, "DESCRIPTION OF OPERATIONS / LOCATIONS / VEHICLES", 6, draw.BOLD)
    draw.lines(c, L + 8, top - 22, draw.wrap(cert.remarks, R - L - 16, 8.5), 8.5, 10)
    y = top - 74
    draw.put(c, L, y, "CERTIFICATE HOLDER", 10, draw.BOLD)
    draw.put(c, 310, y, "CANCELLATION", 10, draw.BOLD)
    c.rect(L, y - 92, 276, 86)
    c.rect(306, y - 92, R - 306, 86)
    holder = cert.holder
    draw.lines(c, L + 40, y - 30, [holder.name, *holder.address.lines()], 8.5, 11)
    draw.lines(c, 312, y - 18, draw.wrap(CANCELLATION, R - 318, 7.5, draw.BOLD), 7.5, 9, draw.BOLD)
    c.line(306, y - 52, R, y - 52)
    draw.put(c, 310, y - 60, "AUTHORIZED REPRESENTATIVE", 6, draw.BOLD)
    draw.put(c, 330, y - 80, cert.signer, 11, draw.ITALIC)
    draw.put(c, L, 28, "ACORD 25 STYLE CERTIFICATE (2016/03)", 7.5, draw.BOLD)


def draw_certificate(cert: Certificate) -> bytes:
    buf = io.BytesIO()
    c = draw.new_canvas(buf, "Certificate of Liability Insurance", cert.producer.party.name)
    y = _parties(c, cert, _header(c, cert) - 4)
    y = _coverage_header(c, cert, y - 2)
    by_kind = {p.kind: p for p in cert.policies}
    marks = dict(zip((p.kind for p in cert.policies), cert.marks, strict=False))
    for spec in SECTIONS:
        y = _section(c, y, spec, by_kind.get(spec[0]), marks.get(spec[0], ("", "")))
    _footer_blocks(c, cert, y - 8)
    c.showPage()
    c.save()
    return buf.getvalue()
