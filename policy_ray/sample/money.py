"""Money helpers: Decimal arithmetic and the printed/truth renderings of amounts."""

from __future__ import annotations

import random
from decimal import Decimal

CENT = Decimal("0.01")


def cents(rng: random.Random, low: int, high: int, whole_share: float = 0.4) -> Decimal:
    """A random amount in [low, high] dollars; some are whole dollars, like real rating output."""
    if rng.random() < whole_share:
        return Decimal(rng.randint(low, high)).quantize(CENT)
    return (Decimal(rng.randint(low * 100, high * 100)) / 100).quantize(CENT)


def stepped(rng: random.Random, low: int, high: int, step: int) -> Decimal:
    """A round amount such as a limit: a multiple of step within [low, high]."""
    return Decimal(rng.randrange(low, high + 1, step)).quantize(CENT)


def truth(amount: Decimal | None) -> str | None:
    """Ground-truth form: plain digits with exactly two decimals, or null."""
    return None if amount is None else f"{amount.quantize(CENT)}"


def grouped(amount: Decimal, decimals: bool = True) -> str:
    """Thousands-grouped digits, e.g. 1,234.50 or 1,000,000."""
    return f"{amount:,.2f}" if decimals else f"{amount:,.0f}"


def dollars(amount: Decimal, decimals: bool = True) -> str:
    return "$" + grouped(amount, decimals)


def usd(amount: Decimal, decimals: bool = True) -> str:
    return "USD " + grouped(amount, decimals)
