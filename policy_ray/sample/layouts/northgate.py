"""Northgate Assurance: boxed fields (small label over value) and a two-page coverage table."""

from __future__ import annotations

from reportlab.pdfgen.canvas import Canvas

from policy_ray.sample import dates, draw
from policy_ray.sample.coverages import UNLIMITED_TEXT, Coverage
from policy_ray.sample.declaration import Declaration
from policy_ray.sample.money import grouped, usd

PAGES = 2
SLATE = (0.16, 0.2, 0.26)
LEFT, RIGHT = 36.0, 576.0
COLS = (36.0, 290.0, 410.0, 490.0, 576.0)  # COVERAGE | LIMIT | DEDUCTIBLE | PREMIUM
ROW_H = 24.0
# Page 1 geometry leaves room for exactly this many rows; 7+ coverages always continue.
ROWS_ON_PAGE_1 = 5


def box(c: Canvas, x: float, top: float, w: float, h: float, label: str, values: list[str],
        size: float = 10) -> None:
    c.setLineWidth(0.8)
    c.rect(x, top - h, w, h)
    draw.put(c, x + 4, top - 8.5, label, 6.5, draw.BOLD)
    draw.lines(c, x + 4, top - 21, values, size, size + 2)


def _band(c: Canvas, dec: Declaration, title: str) -> None:
    c.setFillColorRGB(*SLATE)
    c.rect(LEFT, 742, RIGHT - LEFT, 34, stroke=0, fill=1)
    c.setFillColorRGB(1, 1, 1)
    draw.put(c, 48, 753, dec.carrier.name, 18, draw.BOLD)
    draw.put_right(c, RIGHT - 12, 753, title, 14, draw.BOLD)
    c.setFillColorRGB(0, 0, 0)
    carrier = dec.carrier
    draw.put(c, LEFT, 730, f"{carrier.address.one_line()}  |  NAIC {carrier.naic}  |  Tel {carrier.phone}", 7.5)


def _cells(cov: Coverage) -> tuple[str, str, str, str]:
    limit = UNLIMITED_TEXT if cov.limit is None else usd(cov.limit, decimals=False)
    deductible = "N/A" if cov.deductible is None else usd(cov.deductible, decimals=False)
    return cov.name, limit, deductible, usd(cov.premium)


def _table(c: Canvas, top: float, title: str, rows: list[Coverage]) -> float:
    c.setFillColorRGB(0.88, 0.9, 0.93)
    c.rect(LEFT, top - 16, RIGHT - LEFT, 16, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    draw.put(c, LEFT + 4, top - 11.5, title, 8.5, draw.BOLD)
    header = ("COVERAGE", "LIMIT", "DEDUCTIBLE", "PREMIUM")
    y = top - 16
    c.setLineWidth(0.8)
    c.rect(LEFT, y - 16, RIGHT - LEFT, 16)
    for i, text in enumerate(header):
        draw.put(c, COLS[i] + 4, y - 11, text, 7, draw.BOLD)
    y -= 16
    for cov in rows:
        c.rect(LEFT, y - ROW_H, RIGHT - LEFT, ROW_H)
        name, *amounts = _cells(cov)
        draw.put(c, COLS[0] + 4, y - 15, name, 9)
        for i, text in enumerate(amounts, start=1):
            draw.put_right(c, COLS[i + 1] - 6, y - 15, text, 9)
        y -= ROW_H
    for x in COLS[1:-1]:
        c.line(x, top - 16, x, y)
    return y


def _page_one(c: Canvas, dec: Declaration, total_pages: int) -> None:
    agency = dec.producer
    _band(c, dec, "DECLARATIONS")
    box(c, 36, 718, 180, 34, "POLICY NUMBER", [dec.policy_number])
    box(c, 216, 718, 360, 34, "NAMED INSURED", [dec.insured.name])
    box(c, 36, 684, 135, 34, "EFFECTIVE DATE", [dates.iso(dec.effective)])
    box(c, 171, 684, 135, 34, "EXPIRATION DATE", [dates.iso(dec.expiration)])
    box(c, 306, 684, 135, 34, "DATE ISSUED", [dates.iso(dec.issued)])
    box(c, 441, 684, 135, 34, "POLICY TERM", [f"{dec.term_months} MONTHS"])
    box(c, 36, 650, 270, 62, "INSURED MAILING ADDRESS", dec.insured.address.lines(), 9)
    box(c, 306, 650, 270, 62, "PRODUCER",
        [agency.party.name, *agency.party.address.lines(), f"Tel {agency.phone}   Code {agency.code}"], 8.5)
    box(c, 36, 588, 540, 34, "BUSINESS DESCRIPTION", [dec.business], 9)
    box(c, 36, 554, 540, 46, "FORMS AND ENDORSEMENTS",
        draw.wrap("  ".join(dec.form_list), 530, 8.5), 8.5)
    box(c, 36, 508, 540, 46, "LOCATION SCHEDULE",
        [f"Loc. 1  Bldg. 1  {dec.insured.address.one_line()}", "Construction: Joisted Masonry   Protection Class 4"],
        8.5)
    notice = ("The insurance afforded by this policy is provided only for the coverages below for which a limit "
              "is shown. Premium amounts are stated in United States dollars and are subject to audit.")
    box(c, 36, 462, 540, 46, "IMPORTANT NOTICE", draw.wrap(notice, 530, 8), 8)
    interest = dec.mortgagee
    box(c, 36, 416, 540, 58, "ADDITIONAL INTEREST - MORTGAGEE",
        [interest.name, interest.address.one_line(), f"Loan No. {dec.loan_number}"], 8.5)
    box(c, 36, 358, 270, 34, "PREMIUM PAYMENT PLAN", ["Annual - Direct Bill"], 9)
    box(c, 306, 358, 270, 34, "AUDIT PERIOD", ["Annual"], 9)
    box(c, 36, 324, 540, 46, "RATING BASIS",
        [f"Gross Sales USD {grouped(dec.gross_sales, decimals=False)}",
         f"Payroll USD {grouped(dec.payroll, decimals=False)}"], 8.5)
    _table(c, 266, "COVERAGE SCHEDULE", list(dec.coverages[:ROWS_ON_PAGE_1]))
    draw.put_right(c, RIGHT, 100, "Continued on next page", 8, draw.ITALIC)
    draw.footer(c, dec.carrier.dec_form, 1, total_pages)
    c.showPage()


def _page_two(c: Canvas, dec: Declaration, total_pages: int) -> None:
    _band(c, dec, "DECLARATIONS (continued)")
    box(c, 36, 718, 180, 34, "POLICY NUMBER", [dec.policy_number])
    box(c, 216, 718, 360, 34, "NAMED INSURED", [dec.insured.name])
    bottom = _table(c, 670, "COVERAGE SCHEDULE (continued)", list(dec.coverages[ROWS_ON_PAGE_1:]))
    c.setLineWidth(1.2)
    c.rect(LEFT, bottom - 22, RIGHT - LEFT, 22)
    draw.put(c, LEFT + 4, bottom - 15, "TOTAL POLICY PREMIUM", 9.5, draw.BOLD)
    draw.put_right(c, COLS[-1] - 6, bottom - 15, usd(dec.total), 9.5, draw.BOLD)
    c.setLineWidth(0.6)
    c.line(360, 110, 576, 110)
    draw.put(c, 360, 100, "Authorised Signatory, Northgate Assurance Ltd.", 7.5)
    draw.footer(c, dec.carrier.dec_form, 2, total_pages)
    c.showPage()


def draw_pages(c: Canvas, dec: Declaration, total_pages: int) -> None:
    _page_one(c, dec, total_pages)
    _page_two(c, dec, total_pages)
