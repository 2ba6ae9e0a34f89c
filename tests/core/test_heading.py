"""The carrier's name from the top of page 1: titles and agencies are not insurers, and a heading the
document never repeats is not trusted."""

from __future__ import annotations

from policy_ray.config import Settings, load_pipeline_data
from policy_ray.core.heading import carrier_from_heading, heading_text
from policy_ray.core.models import Word
from tests.core.words import line, lines_of

DATA = load_pipeline_data(Settings())
RULES = DATA.mapping.heading
ACCEPT = DATA.matrix.thresholds.accept
LABELS = [lab for labs in DATA.mapping.registry.generic_labels.values() for lab in labs]
LABELS += DATA.mapping.registry.other_labels
CARRIER_LABELS = DATA.mapping.registry.generic_labels["carrier_name"]


def _carrier(*lines: list[Word], not_names: frozenset[str] = frozenset()) -> tuple[str, float, bool] | None:
    found = carrier_from_heading(lines_of(*lines), RULES, labels=LABELS, carrier_labels=CARRIER_LABELS,
                                 not_names=not_names)
    return (found.name, found.confidence, found.corroborated) if found else None


BODY = line(300, (48, "Named Insured: Harbour Holdings LLC"))
FOOTER = line(760, (48, "Lakeshore Mutual Insurance Company - Home Office"), size=7)


def test_a_document_title_is_not_a_carrier() -> None:
    found = _carrier(line(40, (48, "COMMERCIAL PROPERTY INSURANCE DECLARATIONS"), size=16),
                     line(60, (48, "Lakeshore Mutual Insurance Company")), BODY)
    assert found is not None and found[0] == "Lakeshore Mutual Insurance Company" and found[1] < ACCEPT


def test_an_agency_letterhead_is_not_a_carrier() -> None:
    assert _carrier(line(40, (48, "Summit Insurance Group"), size=18), BODY) is None
    assert _carrier(line(40, (48, "Corwin & Pellow Insurance Agency"), size=18), BODY) is None


def test_a_heading_said_nowhere_else_stays_below_accept() -> None:
    found = _carrier(line(40, (48, "Lakeshore Mutual Insurance Company"), size=18), BODY)
    assert found is not None and found[1] < ACCEPT and not found[2]


def test_a_heading_the_document_repeats_is_trusted() -> None:
    by_footer = _carrier(line(40, (48, "Lakeshore Mutual Insurance Company"), size=18), BODY, FOOTER)
    by_naic = _carrier(line(40, (48, "Lakeshore Mutual Insurance Company"), size=18),
                       line(62, (48, "200 Lake Road, Madison WI 53703   NAIC #24518"), size=8), BODY)
    issued = _carrier(line(40, (48, "Lakeshore Mutual Insurance Company"), size=18), BODY,
                      line(740, (48, "Issued by Lakeshore Mutual Insurance Company"), size=8))
    stock = _carrier(line(40, (48, "Lakeshore Mutual Insurance Company"), size=18),
                     line(62, (48, "A Stock Company   200 Lake Road, Madison WI 53703"), size=8), BODY)
    for found in (by_footer, by_naic, issued, stock):
        assert found is not None and found[1] >= ACCEPT and found[2]


def test_the_name_under_another_partys_caption_does_not_corroborate() -> None:
    found = _carrier(line(40, (48, "Summit Mutual Insurance Co."), size=18), BODY,
                     line(400, (48, "PRODUCER"), size=7), line(410, (48, "Summit Mutual Insurance Co.")))
    assert found is not None and found[1] < ACCEPT


def test_the_insured_is_not_the_carrier() -> None:
    assert _carrier(line(40, (48, "Fireside Mutual Aid Company"), size=18), BODY,
                    not_names=frozenset({"fireside mutual aid company"})) is None


def test_heading_text_is_the_tallest_print_at_the_top() -> None:
    text = heading_text(lines_of(line(40, (48, "Lakeshore Mutual Insurance Company"), size=16),
                                 line(120, (48, "Prior Carrier: Cedar Ridge Casualty Company")), BODY))
    assert text == "Lakeshore Mutual Insurance Company"
