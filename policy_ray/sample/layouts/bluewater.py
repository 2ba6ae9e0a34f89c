"""Bluewater Specialty: a layout no template knows, in two sub-variants.

Variant 0 puts "Policy #" and the term in a top-right block; variant 1 leads
with the insured, prints the term and policy number below it, and follows the
premium with surplus-lines taxes and a larger "Total Amount Due" (a distractor:
the policy premium is still the sum of the coverage premiums).
"""

from __future__ import annotations

from decimal import Decimal

from reportlab.pdfgen.canvas import Canvas

from policy_ray.sample import dates, draw
from policy_ray.sample.coverages import UNLIMITED_TEXT
from policy_ray.sample.declaration import Declaration
from policy_ray.sample.money import CENT, dollars

PAGES = 1
BLUE = (0.05, 0.32, 0.55)
NAME_X, LIMIT_R, DED_R, PREM_R = 60.0, 360.0, 450.0, 560.0
TAX_RATE = Decimal("0.0494")
STAMPING_RATE = Decimal("0.0006")


def _header(c: Canvas, dec: Declaration) -> None:
    carrier = dec.carrier
    c.setStrokeColorRGB(*BLUE)
    c.setLineWidth(1.2)
    for i in range(3):  # three "waves" under the name
        y = 732 - i * 4
        c.bezier(48, y, 120, y + 6, 200, y - 6, 564, y)
    c.setStrokeColorRGB(0, 0, 0)
    c.setFillColorRGB(*BLUE)
    draw.put(c, 48, 744, carrier.name, 18, draw.BOLD)
    c.setFillColorRGB(0, 0, 0)
    draw.put(c, 48, 710, f"{carrier.address.one_line()}   Phone {carrier.phone}   NAIC #{carrier.naic}", 8)
    draw.put(c, 48, 686, "POLICY DECLARATIONS", 12, draw.BOLD)


def _insured(c: Canvas, x: float, y: float, dec: Declaration) -> float:
    draw.put(c, x, y, "Insured Name", 8, draw.BOLD)
    draw.put(c, x, y - 13, dec.insured.name, 10)
    return draw.lines(c, x, y - 26, dec.insured.address.lines(), 9, 11)


def _producer(c: Canvas, x: float, y: float, dec: Declaration) -> None:
    agency = dec.producer
    draw.put(c, x, y, "Producing Broker", 8, draw.BOLD)
    draw.lines(c, x, y - 13, [agency.party.name, *agency.party.address.lines(),
                              f"Phone {agency.phone}   Broker ID {agency.code}"], 8.5, 10.5)


def _term(dec: Declaration) -> str:
    return f"Term: {dates.mdy(dec.effective)} - {dates.mdy(dec.expiration)}"


def _summary(c: Canvas, y: float, dec: Declaration) -> float:
    draw.put(c, 48, y, "Premium Summary", 11, draw.BOLD)
    c.setLineWidth(0.8)
    c.line(48, y - 4, 564, y - 4)
    y -= 18
    for text, x in (("Limit", LIMIT_R), ("Deductible", DED_R), ("Premium", PREM_R)):
        draw.put_right(c, x, y, text, 8, draw.ITALIC)
    draw.put(c, NAME_X, y, "Coverage", 8, draw.ITALIC)
    y -= 14
    for cov in dec.coverages:
        draw.put(c, NAME_X, y, cov.name)
        draw.put_right(c, LIMIT_R, y, UNLIMITED_TEXT if cov.limit is None else dollars(cov.limit, False))
        draw.put_right(c, DED_R, y, cov.none_word if cov.deductible is None else dollars(cov.deductible, False))
        draw.put_right(c, PREM_R, y, dollars(cov.premium))
        y -= 13
    c.line(380, y + 4, 564, y + 4)
    draw.put(c, 380, y - 8, "Policy Premium", 10, draw.BOLD)
    draw.put_right(c, PREM_R, y - 8, dollars(dec.total), 10, draw.BOLD)
    return y - 8


def _taxes(c: Canvas, y: float, dec: Declaration) -> float:
    tax = (dec.total * TAX_RATE).quantize(CENT)
    stamping = (dec.total * STAMPING_RATE).quantize(CENT)
    rows = ((f"Surplus Lines Tax ({TAX_RATE * 100:.2f}%)", tax), ("Stamping Fee", stamping),
            ("Total Amount Due", dec.total + tax + stamping))
    for text, amount in rows:
        y -= 14
        draw.put(c, 380, y, text, 9)
        draw.put_right(c, PREM_R, y, dollars(amount), 9)
    return y


def draw_pages(c: Canvas, dec: Declaration, total_pages: int) -> None:
    _header(c, dec)
    if dec.variant == 0:
        draw.labelled(c, 360, 660, "Policy #", dec.policy_number, 10)
        draw.put(c, 360, 646, _term(dec), 9)
        draw.put(c, 360, 632, f"Issued {dates.mdy(dec.issued)}", 8.5)
        y = _insured(c, 48, 660, dec)
        _producer(c, 48, y - 12, dec)
        y -= 80
    else:
        y = _insured(c, 48, 660, dec)
        _producer(c, 330, 660, dec)
        draw.put(c, 48, y - 14, _term(dec), 9)
        draw.labelled(c, 48, y - 30, "Policy #", dec.policy_number, 10)
        draw.put(c, 330, y - 30, f"Issued {dates.mdy(dec.issued)}", 8.5)
        y -= 52
    draw.put(c, 48, y, f"Operations: {dec.business}", 9)
    y = _summary(c, y - 28, dec)
    if dec.variant == 1:
        y = _taxes(c, y, dec)
    notice = ("This insurance is issued pursuant to the surplus lines laws of the state shown in the insured's "
              "mailing address. The insurer is not a member of a state guaranty fund.")
    draw.lines(c, 48, y - 30, draw.wrap(notice, 516, 8, draw.ITALIC), 8, 10, draw.ITALIC)
    draw.footer(c, dec.carrier.dec_form, 1, total_pages)
    c.showPage()
