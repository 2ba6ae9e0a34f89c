"""Labelled values on synthetic word layouts: captions a label only begins, names over several lines,
captions typed in one run with their values in columns."""

from __future__ import annotations

from collections.abc import Callable

from policy_ray.config import Settings, load_pipeline_data
from policy_ray.core.captions import split_at_labels
from policy_ray.core.labels import LabelHit, find_label_values
from policy_ray.core.models import Word
from policy_ray.core.names import clean_name
from policy_ray.core.values import clean_policy_number, find_dates
from tests.core.words import line, lines_of

DATA = load_pipeline_data(Settings())
REGISTRY = DATA.mapping.registry
FIELD_LABELS = [lab for labs in REGISTRY.generic_labels.values() for lab in labs]
ALL_LABELS = [*FIELD_LABELS, *REGISTRY.other_labels]
IS_NAME: Callable[[str], bool] = lambda v: clean_name(v) is not None  # noqa: E731


def _find(field: str, *lines: list[Word], accept: Callable[[str], bool] = IS_NAME,
          name_block: bool = False) -> list[LabelHit]:
    split = split_at_labels(lines_of(*lines), ALL_LABELS, qualifiers=DATA.mapping.qualifiers, row_labels=FIELD_LABELS)
    return find_label_values(split, REGISTRY.generic_labels[field], stop_labels=ALL_LABELS, accept=accept,
                             name_block=name_block)


def test_a_label_that_only_begins_a_longer_caption_takes_no_value() -> None:
    assert _find("carrier_name", line(10, (48, "Carrier Code: 4471"))) == []
    assert _find("insured_name", line(10, (48, "Insured Location: 45 Oak Street, Dayton OH"))) == []
    # The value under "Carrier Code" is the code's, not the carrier's.
    assert _find("carrier_name", line(10, (48, "CARRIER CODE"), size=7), line(20, (48, "Lakeshore Mutual"))) == []


def test_a_label_that_begins_a_name_takes_nothing_from_the_line_below() -> None:
    # "Insurance Company" begins the carrier's own name: the address under it is no carrier.
    hits = _find("carrier_name", line(10, (48, "Insurance Company of the West"), size=16),
                 line(30, (48, "11455 El Camino Real, San Diego CA 92130")))
    assert hits == []


def test_a_label_with_its_value_inline_does_not_fall_through_to_the_next_line() -> None:
    hits = _find("insured_name", line(10, (48, "Named Insured: See Named Insured Schedule")),
                 line(22, (48, "Harbour Holdings LLC")))
    assert hits == []


def test_a_caption_that_continues_still_finds_its_value_below() -> None:
    hits = _find("insured_name", line(10, (48, "NAMED INSURED & PRINCIPAL ADDRESS"), size=7),
                 line(20, (48, "Quill & Ladder Bakery LLC")), line(32, (48, "12 Mill Road, Springfield")),
                 name_block=True)
    assert [(h.value, h.quality) for h in hits] == [("Quill & Ladder Bakery LLC", 1.0)]


def test_a_wrapped_name_is_joined_up_to_the_address() -> None:
    hits = _find("insured_name", line(10, (48, "Named Insured and Mailing Address"), size=8),
                 line(22, (48, "The Board of Trustees of the Riverside Community"), size=10),
                 line(34, (48, "Hospital Foundation, Inc."), size=10),
                 line(46, (48, "400 Main St, Springfield IL 62701"), size=10), name_block=True)
    assert [(h.value, h.quality) for h in hits] == [
        ("The Board of Trustees of the Riverside Community Hospital Foundation, Inc.", 1.0)]


def test_a_name_beside_its_label_continues_at_the_values_left_edge() -> None:
    hits = _find("insured_name", line(10, (48, "Insured:"), (130, "Riverside Dental Associates, LLC")),
                 line(22, (130, "DBA Smile Bright Family Dentistry")), line(34, (130, "1200 River Rd")),
                 name_block=True)
    assert [(h.value, h.quality) for h in hits] == [("Riverside Dental Associates, LLC", 1.0)]


def test_a_name_whose_end_the_layout_leaves_open_is_flagged() -> None:
    hits = _find("insured_name", line(10, (48, "Insured:"), (130, "DBA Corner Pizza")),
                 line(22, (130, "Harbour Holdings LLC")), name_block=True)
    assert [h.value for h in hits] == ["Harbour Holdings LLC"] and hits[0].quality < 1.0


def test_captions_typed_in_one_run_find_their_values_by_column() -> None:
    lines = (line(10, (48, "POLICY NUMBER EFFECTIVE DATE EXPIRATION DATE"), size=7),
             line(20, (48, "LMI-7781234"), (113, "04/01/2026"), (180, "04/01/2027"), size=8))
    number = _find("policy_number", *lines, accept=lambda v: clean_policy_number(v) is not None)
    effective = _find("effective_date", *lines, accept=lambda v: bool(find_dates(v)))
    expiration = _find("expiration_date", *lines, accept=lambda v: bool(find_dates(v)))
    assert [h.value for h in number] == ["LMI-7781234"]
    assert [h.value for h in effective] == ["04/01/2026"]
    assert [h.value for h in expiration] == ["04/01/2027"]


def test_values_set_close_together_under_a_caption_run_are_cut_at_the_captions() -> None:
    lines = (line(10, (48, "POLICY NUMBER EFFECTIVE DATE EXPIRATION DATE"), size=7),
             line(20, (48, "LMI-7781234"), (96, "04/01/2026"), (146, "04/01/2027"), size=8))
    assert len(lines_of(*lines)[1].segments) == 1  # one run of text: the columns are the captions'
    number = _find("policy_number", *lines, accept=lambda v: clean_policy_number(v) is not None)
    effective = _find("effective_date", *lines, accept=lambda v: bool(find_dates(v)))
    assert [h.value for h in number] == ["LMI-7781234"]
    assert [h.value for h in effective] == ["04/01/2026"]


def test_the_next_row_of_a_label_value_grid_does_not_continue_a_name() -> None:
    hits = _find("insured_name", line(10, (48, "Named Insured:"), (150, "Pinecrest Landscaping")),
                 line(22, (48, "Policy Number:"), (150, "BOP-7781234")), name_block=True)
    assert [(h.value, h.quality) for h in hits] == [("Pinecrest Landscaping", 1.0)]
