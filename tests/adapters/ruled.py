"""Ruled coverage schedules drawn with reportlab, with the defects that make one table engine read them
worse than the other: a name that overflows its cell (pdfplumber cuts it at the border), inner rules that
stop short of the frame (camelot finds no joints and merges every column). All names are invented."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import letter
from reportlab.pdfgen.canvas import Canvas

COLUMNS = (48.0, 250.0, 350.0, 450.0, 564.0)
Row = tuple[tuple[str, ...], str, str, str]  # name lines, limit, deductible, premium

WRAPPED: Row = (("General Liability including", "Products-Completed Operations"), "$1,000,000", "$1,000",
                "$1,000.00")
OVERFLOWING: Row = (("Business Personal Property and Tenant Improvements",), "$250,000", "$2,500", "$500.00")
PLAIN: Row = (("Business Personal Property",), "$250,000", "$2,500", "$500.00")
BREAKDOWN: Row = (("Equipment Breakdown",), "$100,000", "$500", "$75.00")
TOTAL: Row = (("Total Premium",), "", "", "$1,575.00")


def schedule_pdf(rows: list[Row], *, short_rules: float = 0.0, top: float = 560.0) -> bytes:
    """A declarations page whose coverage schedule is a ruled table; `short_rules`: how many points the
    inner vertical rules stop short of the top and bottom of the frame."""
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=letter, invariant=1)
    c.setFont("Helvetica-Bold", 16)
    c.drawString(48, 750, "Lakeshore Mutual Insurance Company")
    c.setFont("Helvetica", 8)
    c.drawString(48, 736, "NAIC #24518   200 Lake Road, Madison, WI 53703")
    c.setFont("Helvetica", 9)
    for i, text in enumerate(("Named Insured: Buckeye Tool & Die Co.", "Policy Number: LMI-BP-7781234",
                              "Effective Date: 04/01/2026", "Expiration Date: 04/01/2027")):
        c.drawString(48, 690 - 14 * i, text)
    header: Row = (("Coverage",), "Limit", "Deductible", "Premium")
    printed = [header, *rows]
    ys = [top]
    for names, *_ in printed:
        ys.append(ys[-1] - (12 * len(names) + 8))
    for y in ys:
        c.line(COLUMNS[0], y, COLUMNS[-1], y)
    for j, x in enumerate(COLUMNS):
        inner = 0 < j < len(COLUMNS) - 1
        c.line(x, ys[0] - (short_rules if inner else 0), x, ys[-1] + (short_rules if inner else 0))
    for i, (names, *amounts) in enumerate(printed):
        c.setFont("Helvetica-Bold" if i == 0 else "Helvetica", 9)
        for k, name in enumerate(names):
            c.drawString(COLUMNS[0] + 4, ys[i] - 13 - 12 * k, name)
        for j, amount in enumerate(amounts):
            if amount:
                c.drawRightString(COLUMNS[j + 2] - 4, ys[i] - 13, amount)
    c.showPage()
    c.save()
    return buf.getvalue()
