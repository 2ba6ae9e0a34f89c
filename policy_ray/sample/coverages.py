"""Catalogue of declarations coverage lines and how their amounts are drawn."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from policy_ray.sample.money import cents, stepped


@dataclass(frozen=True)
class CoverageKind:
    name: str
    limit: tuple[int, int, int]  # low, high, step (dollars)
    deductibles: tuple[int, ...]  # 0 means the line prints N/A or None
    premium: tuple[int, int]  # dollars
    unlimited_share: float = 0.0  # share printed as a non-amount ("Actual Loss Sustained")


# Catalogue order is the print order: property first, then liability, then the rest.
CATALOGUE: tuple[CoverageKind, ...] = (
    CoverageKind("Building", (250_000, 5_000_000, 25_000), (500, 1000, 2500, 5000, 10000), (400, 9000)),
    CoverageKind("Business Personal Property", (50_000, 1_000_000, 5_000), (500, 1000, 2500, 5000),
                 (150, 3500)),
    CoverageKind("Business Income", (100_000, 1_000_000, 10_000), (0,), (100, 1500), 0.3),
    CoverageKind("Extra Expense", (25_000, 250_000, 5_000), (0,), (60, 600)),
    CoverageKind("Equipment Breakdown", (250_000, 2_000_000, 50_000), (1000, 2500, 0), (80, 900)),
    CoverageKind("Accounts Receivable", (25_000, 100_000, 5_000), (250, 500, 0), (40, 300)),
    CoverageKind("Valuable Papers and Records", (10_000, 50_000, 5_000), (250, 500, 0), (25, 200)),
    CoverageKind("Outdoor Signs", (5_000, 25_000, 1_000), (250, 500), (20, 180)),
    CoverageKind("Spoilage", (10_000, 50_000, 5_000), (500, 1000), (45, 400)),
    CoverageKind("Inland Marine - Contractors Equipment", (25_000, 500_000, 5_000), (500, 1000, 2500),
                 (120, 2400)),
    CoverageKind("General Liability - Each Occurrence", (1_000_000, 2_000_000, 1_000_000), (0, 500, 1000),
                 (600, 6000)),
    CoverageKind("General Aggregate", (2_000_000, 4_000_000, 2_000_000), (0,), (100, 900)),
    CoverageKind("Products-Completed Operations", (2_000_000, 4_000_000, 2_000_000), (0,), (150, 2500)),
    CoverageKind("Personal and Advertising Injury", (1_000_000, 2_000_000, 1_000_000), (0,), (75, 700)),
    CoverageKind("Damage to Premises Rented to You", (100_000, 300_000, 100_000), (0,), (25, 250)),
    CoverageKind("Medical Expense", (5_000, 15_000, 5_000), (0,), (20, 180)),
    CoverageKind("Employee Benefits Liability", (1_000_000, 1_000_000, 1), (1000, 0), (90, 600)),
    CoverageKind("Crime - Employee Theft", (10_000, 250_000, 5_000), (500, 1000, 2500, 5000), (70, 1100)),
    CoverageKind("Crime - Forgery or Alteration", (10_000, 100_000, 5_000), (500, 1000), (30, 350)),
    CoverageKind("Cyber Liability", (100_000, 1_000_000, 50_000), (2500, 5000, 10000, 25000), (350, 4500)),
    CoverageKind("Hired and Non-Owned Auto", (1_000_000, 1_000_000, 1), (0,), (90, 950)),
)
UNLIMITED_TEXT = "Actual Loss Sustained"


@dataclass(frozen=True)
class Coverage:
    name: str
    limit: Decimal | None  # None prints UNLIMITED_TEXT
    deductible: Decimal | None  # None prints `none_word`
    premium: Decimal
    none_word: str  # "N/A" or "None": both mean "no deductible" (null in the truth)


def draw_coverages(rng: random.Random, count: int) -> tuple[Coverage, ...]:
    kinds = sorted(rng.sample(range(len(CATALOGUE)), count))
    none_word = rng.choice(("N/A", "None"))
    lines: list[Coverage] = []
    for i in kinds:
        kind = CATALOGUE[i]
        low, high, step = kind.limit
        limit = None if rng.random() < kind.unlimited_share else stepped(rng, low, high, step)
        deductible_dollars = rng.choice(kind.deductibles)
        deductible = Decimal(deductible_dollars).quantize(Decimal("0.01")) if deductible_dollars else None
        premium = cents(rng, *kind.premium)
        lines.append(Coverage(kind.name, limit, deductible, premium, none_word))
    return tuple(lines)
