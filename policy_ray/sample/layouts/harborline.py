"""Harborline Mutual: same-line "Label: value" fields and a fully ruled coverage table."""

from __future__ import annotations

from reportlab.pdfgen.canvas import Canvas

from policy_ray.sample import dates, draw
from policy_ray.sample.coverages import UNLIMITED_TEXT, Coverage
from policy_ray.sample.declaration import Declaration
from policy_ray.sample.money import dollars

PAGES = 1
NAVY = (0.08, 0.18, 0.38)
COLS = (48.0, 300.0, 412.0, 492.0, 564.0)  # cell edges: Coverage | Limit | Deductible | Premium
ROW_H = 16.0


def _cells(cov: Coverage) -> tuple[str, str, str, str]:
    limit = UNLIMITED_TEXT if cov.limit is None else dollars(cov.limit, decimals=False)
    deductible = cov.none_word if cov.deductible is None else dollars(cov.deductible, decimals=False)
    return cov.name, limit, deductible, dollars(cov.premium)


def _table(c: Canvas, dec: Declaration, top: float) -> float:
    rows = [("Coverage", "Limit of Insurance", "Deductible", "Premium")] + [_cells(v) for v in dec.coverages]
    c.setLineWidth(0.6)
    bottom = top - ROW_H * len(rows)
    for i in range(len(rows) + 1):
        c.line(COLS[0], top - i * ROW_H, COLS[-1], top - i * ROW_H)
    for x in COLS:
        c.line(x, top, x, bottom)
    for i, row in enumerate(rows):
        y = top - (i + 1) * ROW_H + 5
        font = draw.BOLD if i == 0 else draw.REGULAR
        draw.put(c, COLS[0] + 4, y, row[0], 8.5, font)
        for col in (1, 2, 3):
            draw.put_right(c, COLS[col + 1] - 4, y, row[col], 8.5, font)
    return bottom


def draw_pages(c: Canvas, dec: Declaration, total_pages: int) -> None:
    carrier = dec.carrier
    c.setFillColorRGB(*NAVY)
    draw.put(c, 48, 742, carrier.name, 20, draw.BOLD)
    c.setFillColorRGB(0, 0, 0)
    draw.put(c, 48, 728, f"{carrier.address.one_line()}  |  NAIC Code {carrier.naic}  |  {carrier.phone}", 8)
    c.setLineWidth(1.5)
    c.line(48, 720, draw.PAGE_W - 48, 720)
    draw.put_center(c, draw.PAGE_W / 2, 698, "COMMERCIAL PACKAGE POLICY DECLARATIONS", 13, draw.BOLD)

    draw.labelled(c, 48, 670, "Policy Number:", dec.policy_number)
    value_x = draw.labelled(c, 48, 654, "Named Insured:", dec.insured.name)
    draw.lines(c, value_x, 642, dec.insured.address.lines())
    period = f"From {dates.mdy(dec.effective)} to {dates.mdy(dec.expiration)} 12:01 A.M. Standard Time"
    draw.labelled(c, 48, 610, "Policy Period:", period)
    draw.put(c, 48, 598, "at the mailing address of the Named Insured shown above", 7.5, draw.ITALIC)
    draw.labelled(c, 48, 580, "Business Description:", dec.business)

    agency = dec.producer
    draw.labelled(c, 372, 670, "Date Issued:", dates.mdy(dec.issued))
    draw.put(c, 372, 654, "Producer:", 9, draw.BOLD)
    draw.lines(c, 372, 642, [agency.party.name, *agency.party.address.lines(), f"Phone {agency.phone}"], 8.5, 10.5)
    draw.labelled(c, 372, 594, "Agent Code:", agency.code, 8.5)

    draw.put(c, 48, 552, "COVERAGE SCHEDULE", 10, draw.BOLD)
    bottom = _table(c, dec, 544)
    draw.put_right(c, COLS[-1], bottom - 20, f"Total Annual Premium: {dollars(dec.total)}", 10, draw.BOLD)

    y = bottom - 48
    draw.put(c, 48, y, "Forms and Endorsements Applicable to All Coverage Parts:", 8.5, draw.BOLD)
    y = draw.lines(c, 48, y - 12, draw.wrap(", ".join(dec.form_list), 516, 8.5), 8.5, 10.5)
    notice = ("These Declarations, together with the Common Policy Conditions, Coverage Parts, Coverage Forms "
              "and endorsements issued to form a part thereof, complete the above numbered policy.")
    draw.lines(c, 48, y - 8, draw.wrap(notice, 516, 8, draw.ITALIC), 8, 10, draw.ITALIC)

    c.setLineWidth(0.6)
    c.line(360, 84, 564, 84)
    draw.put(c, 360, 74, "Countersigned - Authorized Representative", 7.5)
    draw.footer(c, carrier.dec_form, 1, total_pages)
    c.showPage()
