"""Cedar Ridge Casualty: label column + value column, long dates, a borderless table."""

from __future__ import annotations

from reportlab.pdfgen.canvas import Canvas

from policy_ray.sample import dates, draw
from policy_ray.sample.coverages import UNLIMITED_TEXT, Coverage
from policy_ray.sample.declaration import Declaration
from policy_ray.sample.money import grouped

PAGES = 1
GREEN = (0.12, 0.35, 0.2)
LABEL_X, VALUE_X = 48.0, 140.0
# Columns are aligned by x only (no rules): description left, amounts right-aligned.
DESC_X, LIMIT_R, DED_R, PREM_R = 48.0, 370.0, 466.0, 564.0
ROW_H = 15.0


def _logo(c: Canvas) -> None:
    c.setFillColorRGB(*GREEN)
    path = c.beginPath()
    path.moveTo(48, 728)
    path.lineTo(64, 764)
    path.lineTo(80, 728)
    path.close()
    c.drawPath(path, stroke=0, fill=1)
    c.rect(61, 720, 6, 8, stroke=0, fill=1)


def _row(c: Canvas, y: float, cov: Coverage) -> None:
    draw.put(c, DESC_X, y, cov.name)
    draw.put_right(c, LIMIT_R, y, UNLIMITED_TEXT if cov.limit is None else grouped(cov.limit, decimals=False))
    draw.put_right(c, DED_R, y, cov.none_word if cov.deductible is None else grouped(cov.deductible, decimals=False))
    draw.put_right(c, PREM_R, y, grouped(cov.premium))


def _field(c: Canvas, y: float, label: str, values: list[str]) -> float:
    draw.put(c, LABEL_X, y, label, 9, draw.BOLD)
    return draw.lines(c, VALUE_X, y, values, 9, 11.5)


def draw_pages(c: Canvas, dec: Declaration, total_pages: int) -> None:
    carrier, agency = dec.carrier, dec.producer
    _logo(c)
    c.setFillColorRGB(*GREEN)
    draw.put(c, 88, 746, carrier.name, 16, draw.BOLD)
    c.setFillColorRGB(0, 0, 0)
    draw.put(c, 88, 732, carrier.address.one_line(), 8)
    draw.put(c, 88, 722, f"NAIC No. {carrier.naic}    Customer Service {carrier.phone}", 8)
    draw.put_center(c, draw.PAGE_W / 2, 690, "BUSINESSOWNERS POLICY DECLARATIONS", 12, draw.BOLD)
    draw.put_center(c, draw.PAGE_W / 2, 677, "THIS POLICY CONSISTS OF THESE DECLARATIONS AND THE FORMS LISTED BELOW",
                    7)

    y = _field(c, 650, "Policy No.", [dec.policy_number])
    y = _field(c, y - 6, "Insured:", [dec.insured.name, *dec.insured.address.lines()])
    y = _field(c, y - 6, "Effective Date:", [dates.long_form(dec.effective)])
    y = _field(c, y, "Expiration Date:", [dates.long_form(dec.expiration)])
    draw.put(c, VALUE_X, y, "12:01 A.M. standard time at the Insured's mailing address", 7.5, draw.ITALIC)

    draw.put(c, 340, 650, "Agent:", 9, draw.BOLD)
    draw.lines(c, 390, 650, [agency.party.name, *agency.party.address.lines(), f"Phone {agency.phone}"], 8.5, 11)
    draw.put(c, 340, 598, "Agent No.", 9, draw.BOLD)
    draw.put(c, 390, 598, agency.code, 8.5)
    draw.put(c, 340, 584, "Date Issued:", 9, draw.BOLD)
    draw.put(c, 400, 584, dates.long_form(dec.issued), 8.5)
    draw.put(c, LABEL_X, y - 20, "Business Description:", 9, draw.BOLD)
    draw.put(c, 150, y - 20, dec.business)

    y -= 52
    draw.put(c, DESC_X, y, "Description", 9, draw.BOLD)
    draw.put_right(c, LIMIT_R, y, "Limits", 9, draw.BOLD)
    draw.put_right(c, DED_R, y, "Deductible", 9, draw.BOLD)
    draw.put_right(c, PREM_R, y, "Premium", 9, draw.BOLD)
    y -= ROW_H + 2
    for cov in dec.coverages:
        _row(c, y, cov)
        y -= ROW_H
    draw.put(c, DESC_X, y - 3, "Total Premium", 9, draw.BOLD)
    draw.put_right(c, PREM_R, y - 3, grouped(dec.total), 9, draw.BOLD)

    y -= 36
    draw.put(c, LABEL_X, y, "Forms and Endorsements:", 8.5, draw.BOLD)
    y = draw.lines(c, LABEL_X, y - 12, draw.wrap(", ".join(dec.form_list), 516, 8.5), 8.5, 10.5)
    draw.lines(c, LABEL_X, y - 6, draw.wrap(
        "Premium shown is payable at inception unless an installment plan has been arranged with your agent. "
        "Amounts are shown in U.S. dollars.", 516, 8, draw.ITALIC), 8, 10, draw.ITALIC)
    draw.footer(c, carrier.dec_form, 1, total_pages)
    c.showPage()
