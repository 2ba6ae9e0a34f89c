"""Ruled schedules that one table engine reads worse than the other, through the real extractor and
mapping: the coverages come from the copy whose evidence is better. The names wrap inside their cells,
so reading the words line by line gives fewer rows, and the cell grids decide."""

from __future__ import annotations

from decimal import Decimal

from policy_ray.config import Settings, load_pipeline_data
from policy_ray.core.identity import sha256_hex
from policy_ray.core.mapping import map_document
from policy_ray.core.models import MappedDocument
from policy_ray.stages.extract import ExtractStage
from tests.adapters.ruled import BREAKDOWN, OVERFLOWING, PLAIN, TOTAL, WRAPPED, schedule_pdf

DATA = load_pipeline_data(Settings())
STAGE = ExtractStage(Settings(), DATA)
GL = ("General Liability including Products-Completed Operations", Decimal("1000000.00"), Decimal("1000.00"))
EB = ("Equipment Breakdown", Decimal("100000.00"), Decimal("75.00"))


def _mapped(data: bytes) -> MappedDocument:
    return map_document(STAGE.extract(data, sha256_hex(data)), DATA.mapping)


def _coverages(mapped: MappedDocument) -> list[tuple[str, Decimal | None, Decimal | None]]:
    return [(c.name, c.limit, c.premium) for c in mapped.record.coverages]


def test_a_name_overflowing_its_cell_is_read_from_camelot() -> None:
    mapped = _mapped(schedule_pdf([WRAPPED, OVERFLOWING, BREAKDOWN, TOTAL]))
    assert mapped.evidence["coverages"].startswith("table:camelot")
    assert _coverages(mapped) == [GL, ("Business Personal Property and Tenant Improvements", Decimal("250000.00"),
                                       Decimal("500.00")), EB]


def test_rules_camelot_cannot_join_are_read_from_pdfplumber() -> None:
    mapped = _mapped(schedule_pdf([WRAPPED, PLAIN, BREAKDOWN, TOTAL], short_rules=2.5))
    assert mapped.evidence["coverages"].startswith("table:pdfplumber")
    assert _coverages(mapped) == [GL, ("Business Personal Property", Decimal("250000.00"), Decimal("500.00")), EB]


def test_a_clean_table_is_read_from_pdfplumber() -> None:
    mapped = _mapped(schedule_pdf([WRAPPED, PLAIN, BREAKDOWN, TOTAL]))
    assert mapped.evidence["coverages"].startswith("table:pdfplumber")
    assert mapped.field_confidence["coverages"] == 0.97
