"""Names: what can be one, where a name printed over several lines ends, and the legal name of a DBA."""

from __future__ import annotations

import pytest

from policy_ray.core.names import clean_name, looks_like_address, name_from_lines, split_dba


def test_names() -> None:
    assert clean_name(" Acme Widget Co., LLC ") == "Acme Widget Co., LLC"
    assert clean_name("Named Insured") is None
    assert clean_name("01/01/2026") is None
    assert clean_name("84 Lumber Company") == "84 Lumber Company"  # a number first is not an address
    assert clean_name("3M Company") == "3M Company"


@pytest.mark.parametrize("text", [
    "See Named Insured Schedule IL 12 01", "Same as above", "Per Schedule", "TBD", "Various", "As per schedule",
    "Refer to endorsement", "N/A",
])
def test_placeholders_are_not_names(text: str) -> None:
    assert clean_name(text) is None


@pytest.mark.parametrize("text", [
    "1200 River Road, Suite 4", "PO Box 4471", "P.O. Box 12", "Springfield, IL 62701", "Suite 300",
    "Toronto, ON M5V 2T6", "c/o Harbour Accounting",
])
def test_addresses_are_not_names(text: str) -> None:
    assert looks_like_address(text) and clean_name(text) is None


@pytest.mark.parametrize("text", ["COPY", "ORIGINAL", "DUPLICATE", "SPECIMEN", "VOID"])
def test_a_single_stamp_word_is_not_a_name(text: str) -> None:
    assert clean_name(text) is None


def test_the_legal_name_not_the_trade_name() -> None:
    assert clean_name("Riverside Dental Associates, LLC DBA Smile Bright") == "Riverside Dental Associates, LLC"
    assert clean_name("Harrow Farms Inc. d/b/a Harrow Farm Stand") == "Harrow Farms Inc."
    assert clean_name("DBA Corner Pizza") is None  # the trade name alone is not the insured
    assert split_dba("Harrow Farms Inc. t/a Farm Stand") == ("Harrow Farms Inc.", "Farm Stand")


def test_a_name_wrapped_onto_a_second_line_is_joined_up_to_the_address() -> None:
    block = name_from_lines(["The Board of Trustees of the Riverside Community", "Hospital Foundation, Inc.",
                             "400 Main St, Springfield IL 62701"])
    assert block == name_from_lines(["The Board of Trustees of the Riverside Community", "Hospital Foundation, Inc."])
    assert block.name == "The Board of Trustees of the Riverside Community Hospital Foundation, Inc."
    assert block.decided
    assert name_from_lines(["Quill & Ladder Bakery and", "Cafe LLC"]).name == "Quill & Ladder Bakery and Cafe LLC"


def test_a_dba_line_ends_the_name() -> None:
    block = name_from_lines(["Riverside Dental Associates, LLC", "DBA Smile Bright Family Dentistry", "1200 River Rd"])
    assert (block.name, block.decided) == ("Riverside Dental Associates, LLC", True)


def test_where_a_name_ends_is_undecided_when_the_lines_do_not_say() -> None:
    # A second line that neither continues the first nor is an address: the rest of the name, or a
    # second named insured? Nothing on the page says.
    block = name_from_lines(["Avery Corwin", "Dana Corwin"])
    assert block.name == "Avery Corwin" and not block.decided
    # A trade name first: the legal name may be the next line, but the layout is unusual.
    dba_first = name_from_lines(["DBA Corner Pizza", "Harbour Holdings LLC"])
    assert dba_first.name == "Harbour Holdings LLC" and not dba_first.decided
    # A complete entity name, then another line: the name ended with the entity.
    assert name_from_lines(["Blue Heron Bakery LLC", "Avery Corwin"]).decided


def test_a_short_name_over_an_entity_is_two_names_not_one() -> None:
    block = name_from_lines(["Avery Corwin", "Corwin Family Holdings LLC"])
    assert block.name == "Avery Corwin" and not block.decided
