"""An insurer's name outside the heading (a footer, a running header, "underwritten by ..."): read only
where it reads as an insurer's legal name and nothing else."""

from __future__ import annotations

import pytest

from policy_ray.config import Settings, load_pipeline_data
from policy_ray.core.carrier_text import carriers_from_text, insurer_names
from tests.core.words import line, lines_of

DATA = load_pipeline_data(Settings())
RULES = DATA.mapping.heading
LABELS = [*(lab for labs in DATA.mapping.registry.generic_labels.values() for lab in labs),
          *DATA.mapping.registry.other_labels]
CARRIER_LABELS = DATA.mapping.registry.generic_labels["carrier_name"]
ACCEPT = DATA.matrix.thresholds.accept


@pytest.mark.parametrize(
    ("text", "name"),
    [("Lakeshore Mutual Insurance Company - Home Office, Madison WI", "Lakeshore Mutual Insurance Company"),
     ("Bluewater Specialty Insurance Co. SPECIALTY PACKAGE COVERAGE FORM", "Bluewater Specialty Insurance Co."),
     ("Acme Insurance Company, Inc.", "Acme Insurance Company, Inc."),
     ("Acme Insurance Company of Ohio, Inc.", "Acme Insurance Company of Ohio, Inc."),
     ("Page 1 of 2 | Northgate Assurance Ltd.", "Northgate Assurance Ltd.")],
)
def test_an_insurers_legal_name(text: str, name: str) -> None:
    assert insurer_names(text, RULES) == [name]


@pytest.mark.parametrize(
    "text",
    ["Summit Insurance Group", "Includes copyrighted material of Insurance Services Office, Inc., with its permission.",
     "applicable Limit of Insurance.", "The Company", "A Stock Insurance Company", "COMMERCIAL PROPERTY DECLARATIONS",
     "Insurance Company of the West",  # ends in no entity word: its end cannot be told from what follows
     "Lakeshore Mutual Insurance Company Home Office, Madison WI", "Page 1 of 3", "© 2016 ACORD CORPORATION."],
)
def test_no_insurers_name(text: str) -> None:
    assert insurer_names(text, RULES) == []


def _found(*lines: list) -> list[tuple[str, bool, str]]:
    page = lines_of(*lines)
    return [(c.name, c.confidence >= ACCEPT, c.evidence) for c in
            carriers_from_text(page, {1: 792}, RULES, labels=LABELS, carrier_labels=CARRIER_LABELS)]


BODY = line(300, (48, "Named Insured: Harbour Holdings LLC"))


def test_a_footer_alone_is_read_below_accept_and_said_twice_is_trusted() -> None:
    footer = line(740, (48, "Lakeshore Mutual Insurance Company - Home Office"), size=8)
    assert _found(BODY, footer) == [("Lakeshore Mutual Insurance Company", False, "footer:p1")]
    statement = line(500, (48, "This policy is underwritten by Lakeshore Mutual Insurance Company, a stock insurer."))
    assert _found(BODY, statement, footer)[0][:2] == ("Lakeshore Mutual Insurance Company", True)
    naic = line(740, (48, "Lakeshore Mutual Insurance Company   NAIC 24518"), size=8)
    assert _found(BODY, naic)[0][:2] == ("Lakeshore Mutual Insurance Company", True)


def test_page_ones_header_is_the_headings_and_another_partys_caption_owns_its_line() -> None:
    assert _found(line(30, (48, "Lakeshore Mutual Insurance Company"), size=8), BODY) == []
    assert _found(BODY, line(740, (48, "Producer: Summit Mutual Insurance Company"), size=8)) == []
