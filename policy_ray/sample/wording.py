"""Plausible policy-wording prose from sentence templates.

The text deliberately carries no field-like "Label: value" pairs, so an
extractor that finds a policy number here has found the wrong thing.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

SECTIONS = (
    "SECTION I - PROPERTY COVERAGE", "SECTION II - LIABILITY COVERAGE",
    "SECTION III - COMMON POLICY CONDITIONS", "SECTION IV - EXCLUSIONS",
    "SECTION V - LOSS CONDITIONS", "SECTION VI - DEFINITIONS",
)
SUBHEADINGS = (
    "Coverage", "Exclusions", "Limits Of Insurance", "Deductibles", "Additional Coverages",
    "Coverage Extensions", "Duties In The Event Of Loss Or Damage", "Valuation", "Cancellation",
    "Legal Action Against Us", "Other Insurance", "Transfer Of Rights Of Recovery",
)
SENTENCES = (
    "We will pay for direct physical loss of or damage to {prop} at the premises described in the "
    "Declarations caused by or resulting from any Covered Cause of Loss.",
    "We will not pay for loss or damage caused directly or indirectly by {peril}.",
    "Such loss or damage is excluded regardless of any other cause or event that contributes "
    "concurrently or in any sequence to the loss.",
    "The most we will pay for loss or damage in any one occurrence is the applicable Limit of "
    "Insurance shown in the Declarations.",
    "You must give us prompt notice of the loss or damage, including a description of the property involved.",
    "We will not pay for loss or damage in any one occurrence until the amount of loss or damage "
    "exceeds the Deductible shown in the Declarations.",
    "This insurance applies only to {injury} that occurs during the policy period.",
    "We will have the right and duty to defend the insured against any suit seeking those damages.",
    "We may, at our discretion, investigate any occurrence and settle any claim or suit that may result.",
    "Either you or we may cancel this policy by giving {days} days written notice to the other.",
    "If this policy is cancelled, we will send the first Named Insured any premium refund due.",
    "You may extend the insurance provided by this Coverage Part to apply to {prop}, up to {amount} "
    "at each described premises.",
    "Payments under this Additional Coverage will not increase the applicable Limit of Insurance.",
    "We will determine the value of {prop} in the event of loss or damage at actual cash value as of "
    "the time of loss.",
    "The insured must cooperate with us in the investigation or settlement of the claim or defense "
    "against the suit.",
    "No one may bring a legal action against us under this Coverage Part unless there has been full "
    "compliance with all of its terms.",
    "We will pay the actual loss of Business Income you sustain due to the necessary suspension of "
    "your operations during the period of restoration.",
    "This Coverage Part is void in any case of fraud by you as it relates to this Coverage Part at any time.",
    "Any act or neglect of any person other than you beyond your direction or control will not "
    "affect this insurance.",
    "If there is other insurance covering the same loss or damage, we will pay only for the amount "
    "of covered loss or damage in excess of the amount due from that other insurance.",
    "If any person or organization to or for whom we make payment has rights to recover damages "
    "from another, those rights are transferred to us to the extent of our payment.",
    "The first Named Insured shown in the Declarations is responsible for the payment of all premiums.",
    "We will not pay more than {amount} for the reasonable expenses you incur to remove debris of "
    "{prop}.",
)
FILLS: dict[str, tuple[str, ...]] = {
    "prop": ("Covered Property", "your Business Personal Property",
             "personal property of others in your care, custody or control", "outdoor fences and antennas",
             "valuable papers and records", "electronic data", "newly acquired buildings"),
    "peril": ("earth movement, including earthquake and landslide", "flood, surface water, waves or tides",
              "wear and tear, rust or corrosion", "nuclear reaction or radiation", "war and military action",
              "the enforcement of any ordinance or law", "fungus, wet rot, dry rot or bacteria"),
    "injury": ("bodily injury or property damage", "personal and advertising injury"),
    "days": ("10", "30", "60"),
    "amount": ("$2,500", "$5,000", "$10,000", "$25,000"),
}


@dataclass(frozen=True)
class Block:
    style: Literal["section", "heading", "para"]
    text: str


def _paragraph(rng: random.Random) -> str:
    # Sampling without replacement keeps a paragraph from repeating itself.
    templates = rng.sample(SENTENCES, rng.randint(2, 5))
    return " ".join(t.format(**{k: rng.choice(v) for k, v in FILLS.items()}) for t in templates)


def blocks(rng: random.Random) -> Iterator[Block]:
    """An endless stream of section titles, lettered headings and paragraphs."""
    section = 0
    while True:
        yield Block("section", SECTIONS[section % len(SECTIONS)])
        for letter, heading in zip("ABCDEFGH", rng.sample(SUBHEADINGS, rng.randint(2, 4)), strict=False):
            yield Block("heading", f"{letter}. {heading}")
            for _ in range(rng.randint(1, 3)):
                yield Block("para", _paragraph(rng))
        section += 1
