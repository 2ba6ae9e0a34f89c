"""Fictional parties built from small word lists; nothing here names a real entity.

Phone numbers use the 555-01xx block reserved for fiction and e-mail addresses
use the reserved `.example` domain.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

FIRST_NAMES = (
    "Avery", "Blake", "Casey", "Dana", "Elliot", "Frankie", "Gale", "Harper", "Indra",
    "Jules", "Kendall", "Linden", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Reese",
    "Sasha", "Tatum", "Umber", "Vale", "Wren", "Yael",
)
LAST_NAMES = (
    "Ashdown", "Brackley", "Corwin", "Dellamy", "Eversole", "Fenwright", "Galloway",
    "Hollister", "Ingleby", "Jessop", "Kettleby", "Lowther", "Marchetti", "Northam",
    "Ostrander", "Pellow", "Quarrington", "Redfield", "Stillwell", "Thackery", "Underhill",
    "Vossberg", "Whitcombe", "Yardley",
)
BUSINESS_STEMS = (
    "Blue Heron", "Copper Kettle", "Tidewater", "Granite Peak", "Maple Row", "Lantern Hill",
    "Northfield", "Sparrowgate", "Juniper Lane", "Ridgeview", "Foxglove", "Ironbark",
    "Saltmarsh", "Harrowmere", "Thistledown", "Amberfield", "Larkspur", "Millrace",
)
BUSINESS_TRADES = (
    "Bakery", "Logistics", "Dental Group", "Auto Repair", "Landscaping", "Print Shop",
    "Brewing Company", "Veterinary Clinic", "Hardware", "Cabinetry", "Roofing",
    "Coffee Roasters", "Physical Therapy", "Plumbing & Heating", "Event Rentals", "Books",
    "Machine Works", "Florist", "Dry Cleaners", "Pet Grooming",
)
BUSINESS_SUFFIXES = ("LLC", "Inc.", "Co.", "LLP", "Corp.", "Ltd.")
INSURER_STEMS = (
    "Larkmoor", "Quillfield", "Vantreen", "Ashcombe", "Fernhollow", "Brackwater", "Tillbrook",
    "Crestmoor", "Ollerby", "Wrenfield", "Hollowmere", "Stannage",
)
INSURER_TYPES = (
    "Insurance Company", "Indemnity Company", "Fire & Casualty Co.", "Mutual Insurance Company",
    "Specialty Insurance Company", "Assurance Corporation",
)
AGENCY_FORMS = ("{a} & {b} Insurance Agency", "{a} Insurance Group", "{a}-{b} Risk Advisors",
                "{a} Brokerage Services")
STREET_NAMES = (
    "Alder", "Birchwood", "Cobble", "Dunmore", "Elmstead", "Fallow", "Gristmill", "Hawthorne",
    "Ivybridge", "Juniper", "Kestrel", "Linnet", "Meadowlark", "Nettle", "Orchard", "Pickering",
)
STREET_TYPES = ("Street", "Avenue", "Road", "Lane", "Drive", "Boulevard", "Parkway", "Court")
CITIES = (
    ("Ostervale", "OH"), ("Brindlewood", "PA"), ("Quarry Hill", "VT"), ("Marlow Springs", "TX"),
    ("Tessaway", "OR"), ("Glenhaven", "NC"), ("Copper Mills", "MI"), ("Westlake Crossing", "GA"),
    ("Fenbury", "WI"), ("Kilbride Falls", "MN"), ("Sutter Bend", "CA"), ("Ravensholt", "NY"),
)
LENDER_KINDS = ("Savings Bank", "Community Credit Union", "National Bank", "Commercial Lending Co.")
HOLDER_KINDS = ("Property Management LLC", "Realty Partners", "General Contractors Inc.",
                "Holdings LLC", "Development Corp.", "Facilities Trust")


@dataclass(frozen=True)
class Address:
    street: str
    suite: str | None
    city: str
    state: str
    postal: str

    @property
    def city_line(self) -> str:
        return f"{self.city}, {self.state} {self.postal}"

    def lines(self) -> list[str]:
        first = self.street if self.suite is None else f"{self.street}, {self.suite}"
        return [first, self.city_line]

    def one_line(self) -> str:
        return ", ".join(self.lines())


@dataclass(frozen=True)
class Party:
    name: str
    address: Address


@dataclass(frozen=True)
class Agency:
    party: Party
    contact: str
    phone: str
    fax: str
    email: str
    code: str


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def business_name(rng: random.Random) -> str:
    return f"{rng.choice(BUSINESS_STEMS)} {rng.choice(BUSINESS_TRADES)} {rng.choice(BUSINESS_SUFFIXES)}"


def insurer_name(rng: random.Random) -> str:
    return f"{rng.choice(INSURER_STEMS)} {rng.choice(INSURER_TYPES)}"


def lender_name(rng: random.Random) -> str:
    return f"{rng.choice(INSURER_STEMS)} {rng.choice(LENDER_KINDS)}"


def holder_name(rng: random.Random) -> str:
    return f"{rng.choice(BUSINESS_STEMS)} {rng.choice(HOLDER_KINDS)}"


def phone(rng: random.Random) -> str:
    return f"({rng.randint(201, 989)}) 555-01{rng.randint(0, 99):02d}"


def naic(rng: random.Random) -> str:
    return f"{rng.randint(10000, 44999)}"


def address(rng: random.Random) -> Address:
    city, state = rng.choice(CITIES)
    suite = f"Suite {rng.randint(100, 950)}" if rng.random() < 0.3 else None
    street = f"{rng.randint(10, 9899)} {rng.choice(STREET_NAMES)} {rng.choice(STREET_TYPES)}"
    return Address(street, suite, city, state, f"{rng.randint(10000, 99899):05d}")


def insured(rng: random.Random) -> Party:
    return Party(business_name(rng), address(rng))


def agency(rng: random.Random) -> Agency:
    a, b = rng.sample(LAST_NAMES, 2)
    name = rng.choice(AGENCY_FORMS).format(a=a, b=b)
    contact = person(rng)
    domain = a.lower() + "-agency.example"
    email = contact.lower().replace(" ", ".") + "@" + domain
    code = f"{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"
    return Agency(Party(name, address(rng)), contact, phone(rng), phone(rng), email, code)
