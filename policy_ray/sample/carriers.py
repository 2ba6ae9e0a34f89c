"""The four fictional carriers whose declarations pages the night contains."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from policy_ray.sample.names import Address


@dataclass(frozen=True)
class Carrier:
    key: str  # layout name, also the short name used in file names
    name: str
    address: Address
    naic: str
    phone: str
    dec_form: str  # form code printed in the declarations footer
    wording_form: str  # form code printed on the policy wording pages
    wording_title: str


HARBORLINE = Carrier(
    "harborline", "Harborline Mutual Insurance Company",
    Address("1450 Wharfside Avenue", None, "Port Ellery", "ME", "04170"), "24518",
    "(207) 555-0142", "HMI-DEC 01 24", "HMI-CP 00 10 04 24", "COMMERCIAL PACKAGE POLICY FORM",
)
CEDAR = Carrier(
    "cedar", "Cedar Ridge Casualty Company",
    Address("88 Timberline Parkway", "Suite 300", "Cedar Ridge", "CO", "80877"), "31877",
    "(303) 555-0187", "CRC BP DEC 2025", "CRC BP 00 03 07 25", "BUSINESSOWNERS COVERAGE FORM",
)
NORTHGATE = Carrier(
    "northgate", "Northgate Assurance Ltd.",
    Address("3 Gatehouse Plaza", "Suite 900", "Northgate", "IL", "60693"), "40263",
    "(312) 555-0110", "NGA-D-100", "NGA-W-200", "POLICY WORDING",
)
BLUEWATER = Carrier(
    "bluewater", "Bluewater Specialty Insurance Co.",
    Address("600 Lagoon Drive", None, "Bayshore", "FL", "33486"), "15094",
    "(305) 555-0163", "BWS-DEC-0625", "BWS-GL-0001 (06/25)", "SPECIALTY PACKAGE COVERAGE FORM",
)

CARRIERS: dict[str, Carrier] = {c.key: c for c in (HARBORLINE, CEDAR, NORTHGATE, BLUEWATER)}
LAYOUTS: tuple[str, ...] = tuple(CARRIERS)


def policy_number(carrier: Carrier, rng: random.Random, effective: date) -> str:
    """Carrier-specific numbering schemes, e.g. HMI-CPP-4839201 or NGA/PK/0047719."""
    if carrier.key == "harborline":
        return f"HMI-CPP-{rng.randint(1000000, 9999999)}"
    if carrier.key == "cedar":
        return f"CRC {rng.randint(10, 99)}-{rng.randint(100000, 999999)}"
    if carrier.key == "northgate":
        return f"NGA/PK/{rng.randint(1, 999999):07d}"
    suffix = rng.choice("ABCDE")
    return f"BWS-{effective.year % 100:02d}-{rng.randint(1, 99999):05d}-{suffix}"
