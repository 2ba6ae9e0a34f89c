"""Date arithmetic and the date spellings the carriers print."""

from __future__ import annotations

import calendar
import random
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    """Same day-of-month `months` later, clamped to the month's end."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def random_effective(rng: random.Random) -> date:
    """An effective date in 2026-2027 (day <= 28 so terms never need clamping)."""
    return date(rng.randint(2026, 2027), rng.randint(1, 12), rng.randint(1, 28))


def issued_before(rng: random.Random, effective: date) -> date:
    """The 'Date Issued' distractor: a few days to weeks before the term starts."""
    return effective - timedelta(days=rng.randint(3, 40))


def mdy(day: date) -> str:
    return day.strftime("%m/%d/%Y")


def long_form(day: date) -> str:
    # strftime's %-d is platform specific, so build "March 3, 2026" by hand.
    return f"{calendar.month_name[day.month]} {day.day}, {day.year}"


def iso(day: date) -> str:
    return day.isoformat()
