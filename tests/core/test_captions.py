"""Captions: where labels start inside a run of text, and which words beside a label are a caption."""

from __future__ import annotations

from policy_ray.config import Settings, load_pipeline_data
from policy_ray.core.captions import continues_caption, is_other_caption, label_regex, split_at_labels
from policy_ray.core.models import Word
from tests.core.words import line, lines_of

DATA = load_pipeline_data(Settings())
REGISTRY = DATA.mapping.registry
FIELD_LABELS = [lab for labs in REGISTRY.generic_labels.values() for lab in labs]
ALL_LABELS = [*FIELD_LABELS, *REGISTRY.other_labels]


def _split(*lines: list[Word]) -> list[list[str]]:
    out = split_at_labels(lines_of(*lines), ALL_LABELS, qualifiers=DATA.mapping.qualifiers, row_labels=FIELD_LABELS)
    return [[s.text for s in ln.segments] for ln in out]


def test_a_label_never_matches_the_start_of_a_longer_token() -> None:
    assert label_regex("Insurer").match("INSURER(S) AFFORDING COVERAGE") is None
    assert label_regex("Insured").match("Insured's mailing address") is None
    assert label_regex("Insured's Name").match("Insured’s Name: Harbour Holdings LLC") is not None
    assert label_regex("Insurer").match("INSURER A : Larkmoor Indemnity Company") is not None


def test_a_label_after_a_qualifier_names_another_party_and_is_not_split_off() -> None:
    for text in ("Additional Insured: First Federal Bank", "Loss Payee Insured: First Federal Bank"):
        assert _split(line(10, (48, text))) == [[text]]
    # "Prior Policy Number" is a caption of its own: split there, not at the "Policy Number:" inside it.
    assert _split(line(10, (48, "Policy Number: CPP0042117 Prior Policy Number: CPP0042116"))) == [
        ["Policy Number: CPP0042117", "Prior Policy Number: CPP0042116"]]
    assert _split(line(10, (48, "Eff. Date: 02/10/2026 Exp. Date: 02/10/2027"))) == [
        ["Eff. Date: 02/10/2026", "Exp. Date: 02/10/2027"]]


def test_a_run_of_field_captions_is_split_into_captions() -> None:
    assert _split(line(10, (48, "POLICY NUMBER EFFECTIVE DATE EXPIRATION DATE"), size=7)) == [
        ["POLICY NUMBER", "EFFECTIVE DATE", "EXPIRATION DATE"]]
    # One caption and a word of another kind is one longer caption, not a row of captions.
    assert _split(line(10, (48, "NAMED INSURED ADDRESS"), size=7)) == [["NAMED INSURED ADDRESS"]]


def test_words_that_end_in_a_colon_caption_a_value_of_their_own() -> None:
    assert is_other_caption("Code: 4471", ALL_LABELS)
    assert is_other_caption("Location: 45 Oak Street", ALL_LABELS)
    assert not is_other_caption("From: 01/05/2026 To: 01/05/2027", ALL_LABELS)  # a range, not a caption
    assert not is_other_caption("Harbour Holdings LLC", ALL_LABELS)


def test_words_after_a_label_carry_the_caption_or_a_name_on() -> None:
    assert continues_caption("and Mailing Address", ALL_LABELS) is True
    assert continues_caption("& Principal Address", ALL_LABELS) is True
    assert continues_caption("(First)", ALL_LABELS) is True
    assert continues_caption("of the West", ALL_LABELS) is False  # "Insurance Company of the West"
    assert continues_caption("Harbour Holdings LLC", ALL_LABELS) is None
