"""A declarations page's content: what gets printed, and its ground truth."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from policy_ray.sample import dates, money, names
from policy_ray.sample.carriers import Carrier, policy_number
from policy_ray.sample.coverages import Coverage, draw_coverages
from policy_ray.sample.truth import CoverageTruth, RecordTruth

BUSINESS_DESCRIPTIONS = (
    "Retail bakery with on-premises baking", "Warehouse and distribution", "Dental office",
    "Automotive service and repair", "Landscape contractor", "Commercial printing",
    "Craft brewery with taproom", "Veterinary clinic", "Hardware store", "Cabinet manufacturing",
)


@dataclass(frozen=True)
class Declaration:
    carrier: Carrier
    policy_number: str
    insured: names.Party
    producer: names.Agency
    effective: date
    expiration: date
    issued: date
    coverages: tuple[Coverage, ...]
    business: str
    variant: int  # layout sub-variant; only bluewater uses it
    form_list: tuple[str, ...]  # forms-and-endorsements distractor text
    # Distractors some layouts print: another party, another number, other amounts.
    mortgagee: names.Party
    loan_number: str
    gross_sales: Decimal
    payroll: Decimal

    @property
    def total(self) -> Decimal:
        return sum((c.premium for c in self.coverages), Decimal("0.00"))

    @property
    def term_months(self) -> int:
        return (self.expiration.year - self.effective.year) * 12 + self.expiration.month - self.effective.month

    def record(self) -> RecordTruth:
        return RecordTruth(
            document_type="declarations",
            carrier_name=self.carrier.name,
            policy_number=self.policy_number,
            insured_name=self.insured.name,
            effective_date=dates.iso(self.effective),
            expiration_date=dates.iso(self.expiration),
            total_premium=money.truth(self.total),
            currency="USD",
            coverages=tuple(
                CoverageTruth(c.name, money.truth(c.limit), money.truth(c.deductible), money.truth(c.premium))
                for c in self.coverages
            ),
        )


def _form_list(rng: random.Random, carrier: Carrier) -> tuple[str, ...]:
    prefix = carrier.wording_form.split(" ")[0].split("-")[0]
    count = rng.randint(3, 6)
    return tuple(
        f"{prefix} {rng.choice(('CP', 'GL', 'IL', 'BP', 'CR'))} {rng.randint(0, 99):02d} {rng.randint(1, 99):02d}"
        f" {rng.randint(1, 12):02d} {rng.choice((22, 23, 24, 25))}"
        for _ in range(count)
    )


def make_declaration(rng: random.Random, carrier: Carrier) -> Declaration:
    effective = dates.random_effective(rng)
    months = 6 if rng.random() < 0.15 else 12
    # Northgate's table always runs onto page 2, which needs 7+ lines.
    count = rng.randint(7, 12) if carrier.key == "northgate" else rng.randint(2, 9)
    return Declaration(
        carrier=carrier,
        policy_number=policy_number(carrier, rng, effective),
        insured=names.insured(rng),
        producer=names.agency(rng),
        effective=effective,
        expiration=dates.add_months(effective, months),
        issued=dates.issued_before(rng, effective),
        coverages=draw_coverages(rng, count),
        business=rng.choice(BUSINESS_DESCRIPTIONS),
        variant=rng.randint(0, 1),
        form_list=_form_list(rng, carrier),
        mortgagee=names.Party(names.lender_name(rng), names.address(rng)),
        loan_number=f"{rng.randint(10, 99)}-{rng.randint(100000, 999999)}",
        gross_sales=money.stepped(rng, 250_000, 9_000_000, 1_000),
        payroll=money.stepped(rng, 60_000, 2_500_000, 500),
    )
