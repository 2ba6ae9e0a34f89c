"""Coverage names: OCR's stray periods are removed ("Business. Personal Property"), a carrier's own
abbreviations are kept ("Bus. Personal Property"), and a repaired name lowers the coverages' confidence."""

from __future__ import annotations

import pytest

from policy_ray.config import Settings, load_pipeline_data
from policy_ray.core.confidence import REPAIRED_COVERAGE
from policy_ray.core.coverage_text import repair_name
from policy_ray.core.mapping import map_document
from tests.core.words import two_line_schedule

DATA = load_pipeline_data(Settings())
ABBREVIATIONS = DATA.mapping.columns.name_abbreviations


@pytest.mark.parametrize(
    ("printed", "name"),
    [("Business. Personal Property", "Business Personal Property"),
     ("Business.Personal Property", "Business Personal Property"),
     ("BUSINESS. PERSONAL PROPERTY", "BUSINESS PERSONAL PROPERTY"),
     ("Damage To Premises Rented. To You", "Damage To Premises Rented To You")],
)
def test_a_period_between_two_capitalized_words_is_ocr_noise(printed: str, name: str) -> None:
    repaired = repair_name(printed, ABBREVIATIONS)
    assert (repaired.name, repaired.repaired) == (name, True)


@pytest.mark.parametrize(
    "printed",
    ["Bus. Personal Property", "Equip. Breakdown", "BLDG. Coverage", "Personal & Adv. Injury",
     "Products-Completed Ops. Aggregate", "U.S. Terrorism", "Medical Payments", "Hired. auto"],
)
def test_abbreviations_and_clean_names_are_kept_as_printed(printed: str) -> None:
    repaired = repair_name(printed, ABBREVIATIONS)
    assert (repaired.name, repaired.repaired) == (printed, False)


def _coverages(name: str) -> tuple[list[str], float]:
    mapped = map_document(two_line_schedule((name, "$100,000", "$500", "$300.50"), "$1,500.50"), DATA.mapping)
    return [c.name for c in mapped.record.coverages], mapped.field_confidence["coverages"]


def test_a_repaired_name_is_kept_with_a_lower_confidence() -> None:
    clean_names, clean = _coverages("Business Personal Property")
    repaired_names, repaired = _coverages("Business. Personal Property")
    abbreviated_names, abbreviated = _coverages("Bus. Personal Property")
    assert clean_names == repaired_names == ["Building", "Business Personal Property"]
    assert abbreviated_names == ["Building", "Bus. Personal Property"]
    assert clean == abbreviated == 0.97  # the premiums add up to the printed total
    assert repaired == round(0.97 * REPAIRED_COVERAGE, 4)
